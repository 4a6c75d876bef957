#!/usr/bin/env bash
# Checkpoint overhead as a user sees it, and below the resolution of separate processes.
#
#   benchmarks/overhead.sh [-p PAIRS] [-c "CONFIGS"] [-w "GUESTS"] [-n IN_PAIRS] [-s SECTIONS] [-o DATA] [-l LABEL]
#
#   -p PAIRS    end-to-end: alternating pairs per guest and configuration, --no-checkpoint then
#               checkpointing on (default 10)
#   -c CONFIGS  INTERVAL:PREDICTOR pairs (default "50ms:history 10ms:history 50ms:last 10ms:last 50ms:none 10ms:none")
#   -w GUESTS   bundled workloads (run at size=bench) and linux:PROGRAM for the Debian programs of
#               guests/linux/programs.sh (default "compress mcf linux:bzip2 linux:sqlite3")
#   -n IN_PAIRS in-process: measured slice pairs of 20 M instructions after 20 warm-up slices (default 100)
#   -s SECTIONS e2e, inprocess or both, comma-separated (default e2e,inprocess)
#   -o DATA     raw data (default docs/data/overhead-LABEL.tsv); -l LABEL names the sitting (default: the commit)
#
# End-to-end: each measured command is a fresh `vmm run` (the java command ./vmm execs, from a
# private copy of the jar, so a rebuild of the tree cannot change it mid-sitting), timed by
# /usr/bin/time: wall, user+sys CPU, peak resident memory. A Linux program boots the kernel with
# vmmcmd="/bench/run PROGRAM bench", so the boot (about 2.7 G instructions) is part of every run.
# Both runs of a pair must end with status 0 and print the same console bytes (a Linux program's
# line includes the hash of its output, which the host's run of the same binary fixed).
# In-process: io.mucheckpoint.bench.InProcessOverhead (two machines in one JVM, engine on and
# off, alternating equal slices). The report (benchmarks/overhead-report.py DATA) gives the
# median on/off ratio with a bootstrap 95 % interval for each row.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=10
configs="50ms:history 10ms:history 50ms:last 10ms:last 50ms:none 10ms:none"
guests="compress mcf linux:bzip2 linux:sqlite3"
inpairs=100
sections=e2e,inprocess
data=
label=$(git rev-parse --short HEAD)$( [ -z "$(git status --porcelain -- '*.java')" ] || echo "+changes")
while getopts p:c:w:n:s:o:l: opt; do
  case $opt in
    p) pairs=$OPTARG ;; c) configs=$OPTARG ;; w) guests=$OPTARG ;; n) inpairs=$OPTARG ;;
    s) sections=$OPTARG ;; o) data=$OPTARG ;; l) label=$OPTARG ;;
    *) sed -n '2,26p' "$0" >&2; exit 64 ;;
  esac
done
data=${data:-docs/data/overhead-$label.tsv}
[ -x /usr/bin/time ] || { echo "overhead.sh: /usr/bin/time is not installed (apt-get install time)" >&2; exit 69; }
K=${VMM_LINUX_CACHE:-/var/cache/mucheckpoint/linux}
case " $guests " in *" linux:"*)
  if [ ! -f "$K/bzImage" ] || [ ! -f "$K/programs/programs.gz" ] || [ ! -f "$K/programs/programs.sha256" ]; then
    echo "overhead.sh: no kernel and programs initramfs in $K (run guests/linux/build.sh as root): skipping the Linux guests" >&2
    guests=$(echo "$guests" | tr ' ' '\n' | grep -v '^linux:' | tr '\n' ' ')
  fi ;;
esac

./vmm --version > /dev/null # builds the jar if it is stale
(nice mvn -q -o -pl benchmarks -am package -DskipTests 2>/dev/null || nice mvn -q -pl benchmarks -am package -DskipTests) >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp cli/target/vmm.jar "$tmp/vmm.jar"
cp benchmarks/target/benchmarks.jar "$tmp/benchmarks.jar"
. benchmarks/vmm-command.sh
vmm_command "$tmp/vmm.jar" # what ./vmm execs: sets vmm and jvm_options

mkdir -p "$(dirname "$data")"
if [ ! -s "$data" ]; then
  {
    echo "# benchmarks/overhead.sh, sitting '$label', started $(date -u '+%Y-%m-%d %H:%M Z')"
    echo "# commit $(git rev-parse HEAD)$( [ -z "$(git status --porcelain -- '*.java')" ] || echo ' with uncommitted changes')"
    echo "# machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(uname -sr); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '# label\tmethod\tguest\tconfig\tpair\tsystem\twall_s\tcpu_s\tmaxrss_kb\tstatus\tothers_cpu_s\tconsole_md5\textra\n'
  } > "$data"
fi
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

guest_args() { # GUEST -> the vmm run arguments
  case $1 in
    linux:*) echo "--ram 256M --linux $K/bzImage --initrd $K/programs/programs.gz" ;;
    *) echo "$1" ;;
  esac
}

# e2e GUEST CONFIG PAIR SYSTEM ARGS...: one timed `vmm run`, one line of data.
e2e() {
  local guest=$1 config=$2 pair=$3 system=$4
  shift 4
  local b0 b1 status append=()
  case $guest in
    linux:*) append=(--append "console=ttyS0 nokaslr cryptomgr.notests quiet vmmcmd=\"/bench/run ${guest#linux:} bench\"") ;;
    *) append=(--append "size=bench") ;;
  esac
  b0=$(busy)
  set +e
  # shellcheck disable=SC2046
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "${vmm[@]}" run $(guest_args "$guest") "${append[@]}" "$@" < /dev/null > "$tmp/out" 2> "$tmp/err"
  status=$?
  set -e
  b1=$(busy)
  local wall user sys rss
  read -r wall user sys rss < <(tail -1 "$tmp/time")
  local cpu others md5 extra=-
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  others=$(awk -v b0="$b0" -v b1="$b1" -v c="$cpu" 'BEGIN { o = (b1 - b0) / 100 - c; printf "%.2f", o < 0 ? 0 : o }')
  md5=$({ grep -v '^\[ *[0-9.]*\]' "$tmp/out" || true; } | md5sum | cut -c1-12) # the kernel's timestamped log lines aside
  if [ "$system" = on ]; then
    extra=$(sed -n 's/^ *pauses: *.* \([0-9.]*\) us on average, \([0-9.]*\) us at the longest.*/mean_us=\1,max_us=\2/p' "$tmp/err" | head -1)
    # The collector's stops of the guest (vmm run --stats: "collector: ... N times, T ms in all, M ms at the longest").
    local gc
    gc=$(sed -n -e 's/^ *collector: .* \([0-9]*\) times, [0-9]* ms in all, \([0-9]*\) ms at the longest.*/gc_n=\1,gc_max_ms=\2/p' \
        -e 's/^ *collector: .*did not run.*/gc_n=0,gc_max_ms=0/p' "$tmp/err" | head -1)
    [ -n "$extra" ] && [ -n "$gc" ] && extra="$extra,$gc"
    extra=${extra:--}
  fi
  printf '%s\te2e\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$guest" "$config" "$pair" "$system" \
      "$wall" "$cpu" "$rss" "$status" "$others" "$md5" "$extra" >> "$data"
  printf 'overhead: %-14s %-13s pair %2s %-3s %7.2f s wall %7.2f s CPU %6d MiB (status %s)\n' "$guest" "$config" "$pair" "$system" \
      "$wall" "$cpu" $((rss / 1024)) "$status" >&2
  if [ "$status" != 0 ]; then
    echo "overhead.sh: vmm run exited with status $status on $guest $config:" >&2
    tail -5 "$tmp/err" "$tmp/out" >&2
    exit 70
  fi
  if [ "$system" = off ]; then cp "$tmp/out" "$tmp/out.off"; elif ! cmp -s "$tmp/out" "$tmp/out.off"; then
    echo "overhead.sh: the console differs between checkpointing off and on ($guest $config)" >&2
    exit 70
  fi
  case $guest in linux:*)
    grep -q "^$(grep "^bench ${guest#linux:} bench " "$K/programs/programs.sha256")" "$tmp/out" || {
      echo "overhead.sh: $guest did not print the host's hash:" >&2; grep '^bench' "$tmp/out" >&2; exit 70; } ;;
  esac
}

if [[ ,$sections, == *,e2e,* ]]; then
  for guest in $guests; do
    for c in $configs; do
      iv=${c%%:*}; pred=${c##*:}
      for i in $(seq 1 "$pairs"); do
        e2e "$guest" "$c" "$i" off --no-checkpoint
        e2e "$guest" "$c" "$i" on --interval "$iv" --predictor "$pred" --stats
      done
    done
  done
fi

if [[ ,$sections, == *,inprocess,* ]]; then
  for guest in $guests; do
    for c in $configs; do
      iv=${c%%:*}; pred=${c##*:}
      b0=$(busy)
      t0=$(date +%s.%N)
      line=$(VMM_LINUX_CACHE=$K java "${jvm_options[@]}" -Dvmm.root="$PWD" -cp "$tmp/benchmarks.jar" io.mucheckpoint.bench.InProcessOverhead \
        "$guest" "cow-$iv-$pred" "$inpairs" 20000000 20 2> "$tmp/err" | grep '^inprocess ') || { cat "$tmp/err" >&2; exit 70; }
      b1=$(busy)
      others=$(awk -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { o = (b1 - b0) / 100 - (t1 - t0); printf "%.2f", o < 0 ? 0 : o }')
      printf '%s\tinprocess\t%s\t%s\t-\t-\t-\t-\t-\t0\t%s\t-\t%s\n' "$label" "$guest" "$c" "$others" "$(echo "$line" | cut -d' ' -f4- | tr ' ' ',')" >> "$data"
      echo "overhead: $line" >&2
    done
  done
fi
python3 benchmarks/overhead-report.py "$data"
