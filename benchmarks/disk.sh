#!/usr/bin/env bash
# Disk numbers for docs/disk.md: throughput inside the Linux guest (busybox dd on the raw virtio
# disk, as the guest's clock measures it) and the host wall time the same run takes, with and
# without checkpointing; and the checkpoint overhead of the disk-heavy bare-metal workload
# guests/kernels/diskio at size=bench, from alternating runs (off, on, off, on, ...).
# Usage: benchmarks/disk.sh [PAIRS] [diskio|linux|all]   (default 5 all; the Linux part needs
# guests/linux/build.sh's files)
# Prints Markdown tables on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
part=${2:-all}
vmm=./vmm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$vmm workloads >/dev/null 2>&1 || true   # builds the jar once, outside the timings

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }

# One timed run: prints "wall user+sys" seconds; the command's output goes to $work/last.out.
timed() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > "$work/last.out" 2> "$work/last.err" < /dev/null || true
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$work/time"
}

if [ "$part" != linux ]; then
echo "## diskio (bare metal, size=bench: 3000 random-length writes and reads on an 8 MiB region), $pairs pairs" >&2
truncate -s 8M "$work/dio.img"
: > "$work/ratios"; : > "$work/cpuratios"; : > "$work/off"; : > "$work/on"
for i in $(seq "$pairs"); do
  read -r woff coff < <(timed $vmm run --no-checkpoint --kernel guests/build/diskio.elf --drive "$work/dio.img")
  grep -q "diskio done" "$work/last.out" || { echo "diskio failed:"; cat "$work/last.out" "$work/last.err"; exit 1; } >&2
  read -r won con < <(timed $vmm run --kernel guests/build/diskio.elf --drive "$work/dio.img" --stats)
  grep -q "diskio done" "$work/last.out" || { echo "diskio failed:"; cat "$work/last.out" "$work/last.err"; exit 1; } >&2
  cp "$work/last.err" "$work/stats.txt"
  echo "$woff" >> "$work/off"; echo "$won" >> "$work/on"
  awk -v a="$won" -v b="$woff" 'BEGIN {printf "%.4f\n", a / b}' >> "$work/ratios"
  awk -v a="$con" -v b="$coff" 'BEGIN {printf "%.4f\n", a / b}' >> "$work/cpuratios"
  echo "  pair $i: off ${woff}s (cpu ${coff}s), on ${won}s (cpu ${con}s)" >&2
done
echo "| diskio size=bench | checkpointing off | on, 50 ms | wall ratio on/off, median (range) | CPU-time ratio, median (range) |"
echo "|---|---:|---:|---:|---:|"
echo "| wall seconds, median | $(median < "$work/off") | $(median < "$work/on") | $(median < "$work/ratios") ($(spread < "$work/ratios")) | $(median < "$work/cpuratios") ($(spread < "$work/cpuratios")) |"
echo
echo "Engine statistics of the last run with checkpointing (\`--stats\`):"
echo '```'
cat "$work/stats.txt"
echo '```'
echo
fi
[ "$part" != diskio ] || exit 0

dir=${VMM_LINUX_CACHE:-/var/cache/mucheckpoint/linux}
if [ ! -f "$dir/bzImage" ]; then
  echo "(Linux part skipped: no kernel in $dir; run guests/linux/build.sh)"
  exit 0
fi
echo "## Linux: dd on the raw disk" >&2
# Sequential: 64 MiB written (with fsync) and read back with the page cache dropped; random: 256
# single-block writes at random places, each with fsync, timed by the guest's /proc/uptime.
# (The command travels in the kernel command line, where it cannot hold a double quote.)
up='$(cut -d\  -f1 /proc/uptime)'
cmd="cd /; a=$up; dd if=/dev/zero of=/dev/vda bs=1M count=64 conv=fsync 2>/dev/null; b=$up; echo seqwrite \$a..\$b;"
cmd="$cmd echo 3 > /proc/sys/vm/drop_caches; a=$up; dd if=/dev/vda of=/dev/null bs=1M count=64 2>/dev/null; b=$up; echo seqread \$a..\$b;"
cmd="$cmd a=$up; i=0; while [ \$i -lt 256 ]; do dd if=/dev/zero of=/dev/vda bs=4k count=1 seek=\$((RANDOM % 16000)) conv=fsync 2>/dev/null; i=\$((i+1)); done;"
cmd="$cmd b=$up; echo random \$a..\$b"
truncate -s 128M "$work/linux.img"
echo "| Linux, busybox dd on /dev/vda | checkpointing | sequential write 64 MiB (fsync) | sequential read 64 MiB (cache dropped) | 256 random 4 KiB writes (fsync each; a dd process each) | host wall time of the whole run (boot included) |"
echo "|---|---|---:|---:|---:|---:|"
for mode in off on; do
  flag=$([ $mode = off ] && echo --no-checkpoint || echo "")
  read -r wall cpu < <(timed $vmm run $flag --ram 256M --linux "$dir/bzImage" --initrd "$dir/initramfs.gz" --drive "$work/linux.img" \
      --append "console=ttyS0 quiet cryptomgr.notests vmmcmd=\"$cmd\"")
  span() { grep -m1 "^$1 " "$work/last.out" | awk '{split($2, t, /\.\./); print t[2] - t[1]}'; }
  w=$(span seqwrite); r=$(span seqread); rnd=$(span random)
  [ -n "$w" ] && [ -n "$r" ] && [ -n "$rnd" ] || { echo "the Linux run failed:"; tail -20 "$work/last.out"; exit 1; } >&2
  w=$(awk -v s="$w" 'BEGIN {printf "%.0f MB/s (%.2f s)", 67.108864 / s, s}')
  r=$(awk -v s="$r" 'BEGIN {printf "%.0f MB/s (%.2f s)", 67.108864 / s, s}')
  rnd=$(awk -v s="$rnd" 'BEGIN {printf "%.0f writes/s (%.2f s)", 256 / s, s}')
  echo "| | $mode | $w | $r | $rnd | ${wall} s |"
  echo "  linux $mode: wall ${wall}s" >&2
done
