package io.mucheckpoint.cli;

/**
 * One of N shards of a campaign ({@code --shard K/N}, K from 1): the injections whose index is
 * K-1 modulo N, of the same fault plan, so that N processes run the campaign once between them.
 */
record Shard(int k, int n) {
    static final Shard ALL = new Shard(1, 1);

    /** {@code K/N}; a one-line usage error for anything else. */
    static Shard parse(String spec) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,9})/([0-9]{1,9})").matcher(spec.trim());
        if (!m.matches()) throw new VmmException(ExitStatus.USAGE, "--shard takes K/N (this process runs shard K of N, K from 1 to N), not '" + spec + "'");
        int k = Integer.parseInt(m.group(1)), n = Integer.parseInt(m.group(2));
        if (n < 1 || k < 1 || k > n) throw new VmmException(ExitStatus.USAGE, "--shard K/N needs 1 <= K <= N, not " + spec);
        return new Shard(k, n);
    }

    boolean contains(int index) {
        return index % n == k - 1;
    }

    /** The indices of {@code 0..faults-1} that are this shard's. */
    int[] indices(int faults) {
        return java.util.stream.IntStream.range(0, faults).filter(this::contains).toArray();
    }

    @Override
    public String toString() {
        return k + "/" + n;
    }
}
