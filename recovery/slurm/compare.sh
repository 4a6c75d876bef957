#!/usr/bin/env bash
# The cost of running a campaign through Slurm: the same campaign, unsharded (`vmm inject`, one
# process, --workers = the cores) and as an N-shard job array plus merge (submit.sh --wait, one core
# and --workers 1 per shard), alternately A B A B, PAIRS times. Prints each run's wall and CPU time
# (user + system of every vmm process, merge included) and the median ratios of wall and CPU.
#
#   recovery/slurm/compare.sh [PAIRS] [N] WORKLOAD [vmm inject options without --workers]
#   e.g. recovery/slurm/compare.sh 3 4 quantum --append size=test --faults 40 --seed 1
#
# Needs a running Slurm (SLURM_CONF set, e.g. by recovery/slurm/start-local.sh) and a built ./vmm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pairs="${1:?usage: compare.sh PAIRS N WORKLOAD [options]}"
shards="${2:?usage: compare.sh PAIRS N WORKLOAD [options]}"
shift 2
cores="$(nproc)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Every vmm process appends its user and system seconds to one file.
cat > "$work/vmm" <<EOF
#!/bin/sh
exec /usr/bin/time -a -o "$work/cpu" -f "%U %S" "$root/vmm" "\$@"
EOF
chmod +x "$work/vmm"
"$root/vmm" workloads >/dev/null   # builds the jar first if needed, outside the timings

cpu() {
  awk '{ s += $1 + $2 } END { printf "%.1f", s }' "$work/cpu"
}

walls=()
cpus=()
for i in $(seq 1 "$pairs"); do
  rm -f "$work/cpu" "$work"/*.json "$work"/*.jsonl
  t0=$(date +%s.%N)
  "$work/vmm" inject "$@" --workers "$cores" --journal "$work/a.jsonl" --json "$work/a.json" >/dev/null 2>&1
  a=$(echo "$(date +%s.%N) - $t0" | bc)
  ca=$(cpu)
  echo "pair $i: unsharded, --workers $cores: wall $(printf %.1f "$a") s, cpu $ca s"

  rm -f "$work/cpu"; rm -rf "$work/c"
  t0=$(date +%s.%N)
  VMM="$work/vmm" "$here/submit.sh" -n "$shards" -d "$work/c" --wait "$@" --workers 1 >/dev/null 2>&1
  b=$(echo "$(date +%s.%N) - $t0" | bc)
  cb=$(cpu)
  echo "pair $i: slurm, $shards shards + merge: wall $(printf %.1f "$b") s, cpu $cb s"
  walls+=("$(echo "scale=3; $b / $a" | bc)")
  cpus+=("$(echo "scale=3; $cb / $ca" | bc)")
done
median() {
  printf '%s\n' "${@:2}" | sort -n | awk -v what="$1" '{ r[NR] = $1 } END {
    m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "slurm / unsharded %s: median %.2f (from %.2f to %.2f over %d pairs)\n", what, m, r[1], r[NR], NR }'
}
median wall "${walls[@]}"
median cpu "${cpus[@]}"
