#!/usr/bin/env bash
# Emulation speed as a user sees it: the wall time of `vmm run --no-checkpoint` against
# qemu-system-i386 (TCG) on the same guest, in alternating pairs (ours, QEMU, ours, QEMU, ...).
#
#   benchmarks/speed.sh [-p PAIRS] [-s SECTIONS] [-w "WORKLOADS"] [-L SECONDS] [-o DATA] [-l LABEL] [-t MODE]
#
#   -p PAIRS     alternating pairs per row (default 5)
#   -s SECTIONS  comma-separated, of: bench (every workload at size=bench), long (every workload with
#                iters=N chosen so that our run lasts about SECONDS; the ratio targets are judged
#                here), linux (Debian's kernel to the end of `uname -a`, checkpointing off and on;
#                skipped with a message when guests/linux/build.sh has not fetched it)
#                (default bench,long,linux)
#   -w           the workloads (default: every bundled one, guests/build/workloads.tsv)
#   -L SECONDS   how long a long run of ours should last (default 40, so that it is >= 30 s)
#   -o DATA      the raw data file (default docs/data/speed-LABEL.tsv)
#   -l LABEL     names the sitting in the data and the report (default: the commit, short)
#   -t MODE      our --translate setting: on (the default users get), off (the interpreter alone),
#                all, or a count of runs; recorded in the data's header
#
# Each measured command is a fresh process, timed by /usr/bin/time (wall, user, sys); ours is the
# java command ./vmm execs, run from a copy of the jar so that editing the tree during a sitting
# cannot rebuild it mid-way. Our exact instruction count (from --stats) serves both rows; --stats
# also says how many instructions had retired 10 s after the process started, which separates the
# JIT's warm-up from the rest. Every run must end with the guest's status 0 and the same console
# bytes under both. While each command runs, the CPU time of everything else on the machine is
# sampled from /proc/stat, so the data say how shared the machine was.
#
# Writes DATA (one line per run); then benchmarks/speed-report.sh turns data files into
# docs/speed.md and docs/img/speed.png.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pairs=5
sections=bench,long,linux
workloads=$(cut -f1 guests/build/workloads.tsv | tr '\n' ' ')
longsec=40
data=
label=$(git rev-parse --short HEAD)$( [ -z "$(git status --porcelain -- '*.java')" ] || echo "+changes")
translate=on
while getopts p:s:w:L:o:l:t: opt; do
  case $opt in
    p) pairs=$OPTARG ;;
    s) sections=$OPTARG ;;
    w) workloads=$OPTARG ;;
    L) longsec=$OPTARG ;;
    o) data=$OPTARG ;;
    l) label=$OPTARG ;;
    t) translate=$OPTARG ;;
    *) sed -n '2,22p' "$0" >&2; exit 64 ;;
  esac
done
data=${data:-docs/data/speed-$label.tsv}
QEMU=${QEMU:-qemu-system-i386}
command -v "$QEMU" >/dev/null || { echo "speed.sh: $QEMU is not installed (apt-get install qemu-system-x86)" >&2; exit 69; }
[ -x /usr/bin/time ] || { echo "speed.sh: /usr/bin/time is not installed (apt-get install time)" >&2; exit 69; }

./vmm --version > /dev/null # builds the jar if it is stale
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp cli/target/vmm.jar "$tmp/vmm.jar"
. benchmarks/vmm-command.sh
vmm_command "$tmp/vmm.jar" # what ./vmm execs: sets vmm and jvm_options
qemu_common=(-accel tcg -device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio -display none -no-reboot)

mkdir -p "$(dirname "$data")"
if [ ! -s "$data" ]; then
  {
    echo "# benchmarks/speed.sh, sitting '$label', started $(date -u '+%Y-%m-%d %H:%M Z')"
    echo "# commit $(git rev-parse HEAD)$( [ -z "$(git status --porcelain -- '*.java')" ] || echo ' with uncommitted changes')"
    echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(uname -sr)"
    echo "# java: $(java -version 2>&1 | sed -n 2p); qemu: $($QEMU --version | head -1)"
    echo "# ours: --translate $translate"
    printf '# label\trow\targs\tsystem\tpair\twall_s\tuser_s\tsys_s\tstatus\ticount\ticount_10s\tothers_cpu_s\tconsole_md5\n'
  } > "$data"
fi

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# run ROW ARGS SYSTEM PAIR EXPECTED_STATUS COMMAND... : times one command, appends a line to $data.
run() {
  local row=$1 args=$2 system=$3 pair=$4 want=$5
  shift 5
  local b0 b1 status
  b0=$(busy)
  set +e
  /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" < /dev/null > "$tmp/out" 2> "$tmp/err"
  status=$?
  set -e
  b1=$(busy)
  read -r wall user sys < <(tail -1 "$tmp/time")
  local ic=- ic10=-
  if [ "$system" != qemu ]; then
    ic=$(sed -n 's/^ *run: *\([0-9,]*\) instructions.*/\1/p' "$tmp/err" | tr -d , | head -1)
    ic10=$(sed -n 's/^ *warm-up: *\([0-9,]*\) instructions in the first.*/\1/p' "$tmp/err" | tr -d , | head -1)
    ic=${ic:--}; ic10=${ic10:--}
  fi
  local others
  others=$(awk -v b0="$b0" -v b1="$b1" -v u="$user" -v s="$sys" 'BEGIN { o = (b1 - b0) / 100 - u - s; printf "%.2f", o < 0 ? 0 : o }')
  local md5
  md5=$(md5sum < "$tmp/out" | cut -c1-12)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$row" "$args" "$system" "$pair" \
      "$wall" "$user" "$sys" "$status" "$ic" "$ic10" "$others" "$md5" >> "$data"
  printf 'speed: %-10s %-22s %-6s pair %s: %6.2f s wall (status %s%s)\n' "$row" "$args" "$system" "$pair" "$wall" "$status" \
      "$( [ "$ic" = - ] || awk -v n="$ic" -v w="$wall" 'BEGIN { printf ", %.1f M instr/s", n / w / 1e6 }')" >&2
  if [ "$status" != "$want" ]; then
    echo "speed.sh: $system exited with status $status (expected $want) on $row $args:" >&2
    tail -5 "$tmp/err" "$tmp/out" >&2
    exit 70
  fi
  cp "$tmp/out" "$tmp/out.$system"
}

# pairs ROW ARGS VMM_ARGS... -- QEMU_ARGS... : PAIRS alternating runs; both must print the same console.
pairs() {
  local row=$1 args=$2
  shift 2
  local va=() qa=()
  while [ "$1" != -- ]; do va+=("$1"); shift; done
  shift
  qa=("$@")
  local i
  for i in $(seq 1 "$pairs"); do
    run "$row" "$args" vmm "$i" 0 "${vmm[@]}" run "${va[@]}" --translate "$translate" --stats
    run "$row" "$args" qemu "$i" 1 "$QEMU" "${qa[@]}" "${qemu_common[@]}"
    if [[ $row == linux* ]]; then
      # The kernel's own log differs between the two machines (no ACPI or PCI here, no MCE there):
      # compare from the initramfs's banner on.
      sed -i -n '/initramfs:/,$p' "$tmp/out.vmm" "$tmp/out.qemu"
      [ -s "$tmp/out.vmm" ] || { echo "speed.sh: no initramfs banner in the output of $row" >&2; exit 70; }
    fi
    if ! cmp -s "$tmp/out.vmm" "$tmp/out.qemu"; then
      echo "speed.sh: the console output of $row $args differs between vmm and QEMU" >&2
      diff "$tmp/out.vmm" "$tmp/out.qemu" | head -5 >&2
      exit 70
    fi
  done
}

# The bench-size default of iters=N for each workload (guests/workloads/*.c, arg_iters(...)).
default_iters() {
  sed -n 's/.*arg_iters([^?]*? *[0-9]* *: *\([0-9]*\)).*/\1/p' "guests/workloads/$1.c" | head -1
}

median_wall() { # ROW ARGS SYSTEM: the median wall time of this sitting's runs
  awk -F'\t' -v l="$label" -v r="$1" -v a="$2" -v s="$3" '$1 == l && $2 == r && $3 == a && $4 == s { print $6 }' "$data" \
    | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

for section in ${sections//,/ }; do
  case $section in
    bench)
      for w in $workloads; do
        pairs "$w" size=bench "$w" --no-checkpoint --append size=bench -- -kernel "guests/build/$w.elf" -append size=bench
      done ;;
    long)
      for w in $workloads; do
        d=$(default_iters "$w")
        t=$(median_wall "$w" size=bench vmm)
        if [ -z "$t" ]; then
          run "$w" size=bench vmm calibrate 0 "${vmm[@]}" run "$w" --no-checkpoint --append size=bench --translate "$translate" --stats
          t=$(median_wall "$w" size=bench vmm)
        fi
        n=$(awk -v d="$d" -v t="$t" -v L="$longsec" 'BEGIN { n = d * L / t; printf "%d", n == int(n) ? n : int(n) + 1 }')
        pairs "$w" "iters=$n" "$w" --no-checkpoint --append "size=bench iters=$n" -- -kernel "guests/build/$w.elf" -append "size=bench iters=$n"
      done ;;
    linux)
      # Where guests/linux/build.sh caches the kernel and the initramfs (it is not run from here: it
      # may download).
      kdir=${VMM_LINUX_CACHE:-/var/cache/mucheckpoint/linux}
      [ -f "$kdir/bzImage" ] || kdir=$HOME/.cache/mucheckpoint/linux
      if [ ! -f "$kdir/bzImage" ] || [ ! -f "$kdir/initramfs.gz" ]; then
        echo "speed.sh: no Linux kernel in $kdir (run guests/linux/build.sh): skipping the Linux rows" >&2
        continue
      fi
      cmdline='console=ttyS0 nokaslr cryptomgr.notests quiet vmmcmd="uname -a"'
      pairs linux uname "--ram" 256M --linux "$kdir/bzImage" --initrd "$kdir/initramfs.gz" --append "$cmdline" --no-checkpoint \
        -- -m 256 -kernel "$kdir/bzImage" -initrd "$kdir/initramfs.gz" -append "$cmdline"
      pairs linux-cp uname "--ram" 256M --linux "$kdir/bzImage" --initrd "$kdir/initramfs.gz" --append "$cmdline" \
        -- -m 256 -kernel "$kdir/bzImage" -initrd "$kdir/initramfs.gz" -append "$cmdline" ;;
    *) echo "speed.sh: unknown section '$section' (bench, long, linux)" >&2; exit 64 ;;
  esac
done
echo "speed.sh: wrote $data" >&2
