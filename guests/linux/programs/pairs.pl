# Word pairs of a file: every adjacent pair with its count (sorted by count, then text), then each
# line's words reversed and a running checksum. Stands in for a Perl text-processing workload.
my %pair;
my $sum = 0;
open(my $in, '<', $ARGV[0]) or die "pairs.pl: $ARGV[0]: $!";
while (my $line = <$in>) {
    chomp $line;
    my @w = split / +/, lc $line;
    for my $i (0 .. $#w - 1) { $pair{"$w[$i] $w[$i+1]"}++; }
    my $rev = join(' ', reverse @w);
    $sum = ($sum * 31 + length($rev) + unpack('%32C*', $rev)) % 4294967291;
}
close $in;
for my $k (sort { $pair{$b} <=> $pair{$a} or $a cmp $b } keys %pair) { print "$k $pair{$k}\n"; }
print "checksum $sum\n";
