#!/usr/bin/env bash
# The fault-injection suite of docs/recovery.md: a campaign over every bundled workload, then the
# page regenerated from it:
#   recovery/campaign-suite.sh [FAULTS_PER_WORKLOAD (1112)] [SEED (1)] [OUTDIR (recovery/target/campaign)]
# Each campaign: size=test, 10 ms epochs, latency bound L = 10 ms, faults into registers, memory
# (raw upsets), x87 registers and control registers. 9 workloads x 1,112 = 10,008 injections; about
# 70 minutes with 2 workers on 2 cores. Every campaign is journaled: run the script again after an
# interruption and each unfinished campaign resumes from its journal (a finished one, whose JSON is
# there, is not run again; delete OUTDIR to start over).
# WORKERS=N sets the parallel injections per workload (default: the number of cores); VMM="java -jar F"
# runs a fixed build instead of ./vmm (which rebuilds itself when the sources change).
set -euo pipefail
cd "$(dirname "$0")/.."
vmm=${VMM:-./vmm}
faults=${1:-1112}
seed=${2:-1}
out=${3:-recovery/target/campaign}
mkdir -p "$out"
for w in $($vmm workloads | awk '{print $1}'); do
  [ -f "$out/$w.json" ] && continue
  j="$out/$w.jsonl"
  if [ -s "$j" ]; then journal=(--resume "$j"); else journal=(--journal "$j"); fi
  $vmm inject "$w" --append size=test --faults "$faults" --seed "$seed" --interval 10ms --latency 10ms \
      --target reg,mem,x87,cr ${WORKERS:+--workers "$WORKERS"} --json "$out/$w.json.part" "${journal[@]}" > "$out/$w.txt"
  mv "$out/$w.json.part" "$out/$w.json"
done
python3 recovery/make-recovery-doc.py "$out"/*.json > docs/recovery.md
echo "wrote docs/recovery.md from $out/*.json"
