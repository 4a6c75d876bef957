#!/usr/bin/env bash
# The campaigns behind docs/recovery.md's measurements of checkpoint corruption, error latency and
# recovery cost, then the page's measurement section and its plots regenerated from their JSON:
#   recovery/measure.sh [GRID_FAULTS (40)] [TARGET_FAULTS (80)] [SEED (1)] [OUTDIR (docs/data/recovery)]
# (a) the grid: quantum, the same GRID_FAULTS faults once per retained-checkpoint count K (--keep K) and
#     latency bound L; (b) every bundled workload, TARGET_FAULTS faults spread over reg, mem, x87 and cr
#     at the default retention and L = 10 ms. WORKERS=N sets parallel injections (default 1: the machine
#     is shared); WORKLOADS="a b" limits (b) to those workloads; SKIP_GRID=1 / SKIP_TARGETS=1 skip a
#     part; VMM="java -jar F" runs a fixed build instead of ./vmm. Each JSON is gzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
vmm=${VMM:-./vmm}
grid=${1:-40}
per=${2:-80}
seed=${3:-1}
out=${4:-docs/data/recovery}
workers=${WORKERS:-1}
mkdir -p "$out"
run() { # NAME ARGS...: one campaign, its JSON gzipped, its table and timing kept beside it
  local name=$1; shift
  local start=$SECONDS
  rm -f "$out/$name.jsonl"
  $vmm inject "$@" --seed "$seed" --workers "$workers" --json "$out/$name.json" --journal "$out/$name.jsonl" \
      > "$out/$name.txt" 2> "$out/$name.log"
  echo "$name: $((SECONDS - start)) s wall" >> "$out/timing.txt"
  gzip -f -n "$out/$name.json"
  rm "$out/$name.jsonl" # the JSON holds every result the journal did
}
if [ -z "${SKIP_GRID:-}" ]; then
  run grid-quantum quantum --append size=test --interval 10ms --faults "$grid" \
      --sweep-keep 1,2,4,16,64 --sweep-latency 0,1ms,10ms,100ms,1s
fi
if [ -z "${SKIP_TARGETS:-}" ]; then
  for w in ${WORKLOADS:-$($vmm workloads | awk '{print $1}')}; do
    run "targets-$w" "$w" --append size=test --interval 10ms --latency 10ms --faults "$per" --target reg,mem,x87,cr
  done
fi
${REPORT:-java -cp cli/target/vmm.jar io.mucheckpoint.recovery.report.RecoveryMeasurements} "$out" docs/recovery-measurements.md docs/img
