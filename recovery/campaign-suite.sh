#!/usr/bin/env bash
# A fault-injection campaign over every bundled workload, then docs/recovery.md regenerated from it:
#   recovery/campaign-suite.sh [FAULTS_PER_WORKLOAD (120)] [SEED (1)] [OUTDIR (recovery/target/campaign)]
# WORKERS=N sets the parallel injections per workload (default: the number of cores); VMM="java -jar F"
# runs a fixed build instead of ./vmm (which rebuilds itself when the sources change).
set -euo pipefail
cd "$(dirname "$0")/.."
vmm=${VMM:-./vmm}
faults=${1:-120}
seed=${2:-1}
out=${3:-recovery/target/campaign}
mkdir -p "$out"
for w in $($vmm workloads | awk '{print $1}'); do
  rm -f "$out/$w.jsonl" # the journal of an earlier suite (its JSON is written again)
  $vmm inject "$w" --append size=test --faults "$faults" --seed "$seed" --interval 10ms \
      --sweep-latency 0,10ms,100ms ${WORKERS:+--workers "$WORKERS"} --json "$out/$w.json" --journal "$out/$w.jsonl" > "$out/$w.txt"
done
python3 recovery/make-recovery-doc.py "$out"/*.json > docs/recovery.md
echo "wrote docs/recovery.md from $out/*.json"
