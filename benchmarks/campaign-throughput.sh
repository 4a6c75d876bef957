#!/usr/bin/env bash
# Campaign throughput before and after fast-forward + convergence (issue 18), as a user runs it:
# `vmm inject W --append size=test --faults N --workers 1 [ARGS]` on every bundled workload, the
# same command with --no-fast-forward --no-convergence (every injection boots and runs to its end)
# alternating with it, PAIRS pairs per workload in one sitting.
#   benchmarks/campaign-throughput.sh [FAULTS (40)] [PAIRS (3)] [OUT (docs/data/campaign-throughput.tsv)] [-- extra inject args]
# Per run it records the wall and CPU time (user+sys, /usr/bin/time) of the whole command and the
# wall time of its injections alone (the "N injections in X s" line: the golden run and JVM start
# excluded). Injections per hour per core are computed from the injection phase at --workers 1
# (one core busy); the report prints the median of the per-pair ratios and their range.
# WORKLOADS="a b" limits the suite; VMM="java -jar F" runs a fixed build instead of ./vmm;
# BEFORE_VMM="java -jar OLD" makes "before" that build as it is (e.g. one from before issue 18), without the flags;
# AFTER_ARGS="--prune def-use" gives "after" alone more arguments (def-use pruning against none of the shortcuts).
set -euo pipefail
cd "$(dirname "$0")/.."
faults=${1:-40}
pairs=${2:-3}
out=${3:-docs/data/campaign-throughput.tsv}
shift $(( $# < 3 ? $# : 3 )) || true
[ "${1:-}" = "--" ] && shift
extra=("$@")
vmm=${VMM:-./vmm}
command -v /usr/bin/time >/dev/null || { echo "campaign-throughput.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
$vmm workloads >/dev/null # builds the jar once, outside the timings
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "workload\tmode\tpair\tfaults\twall_s\tcpu_s\tinjections_wall_s\n" > "$out"
for w in ${WORKLOADS:-$($vmm workloads | awk '{print $1}')}; do
  for p in $(seq 1 "$pairs"); do
    for mode in before after; do
      flags=(--journal "$tmp/journal-$w-$mode-$p.jsonl")
      [ "$mode" = after ] && [ -n "${AFTER_ARGS:-}" ] && read -r -a more <<< "$AFTER_ARGS" && flags+=("${more[@]}")
      cmd=$vmm
      if [ "$mode" = before ]; then
        if [ -n "${BEFORE_VMM:-}" ]; then cmd=$BEFORE_VMM; flags=(); else flags+=(--no-fast-forward --no-convergence); fi
      fi
      /usr/bin/time -f "%e %U %S" -o "$tmp/time" $cmd inject "$w" --append size=test --faults "$faults" --seed "$p" \
          --workers 1 "${flags[@]}" "${extra[@]}" > "$tmp/table" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
      read -r wall user sys < <(tail -1 "$tmp/time")
      inj=$(sed -n 's/.*: \([0-9]*\) injections in \([0-9.]*\) s$/\2/p' "$tmp/err" | tail -1)
      printf "%s\t%s\t%d\t%d\t%s\t%s\t%s\n" "$w" "$mode" "$p" "$faults" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "$inj" >> "$out"
      echo "$w $mode pair $p: ${wall} s wall, injections ${inj} s" >&2
    done
  done
done
python3 benchmarks/campaign-throughput-report.py "$out"
