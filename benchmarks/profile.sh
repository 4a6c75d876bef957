#!/usr/bin/env bash
# Where checkpointing's time goes, by sampling: runs a workload under Java Flight Recorder with
# checkpointing off and on, and writes docs/profile.md (host time by part of the VMM, top methods).
#   benchmarks/profile.sh [WORKLOAD (churn)] [INTERVAL (10ms)] [SIZE (bench)]
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:-churn}
iv=${2:-10ms}
size=${3:-bench}
./vmm --version > /dev/null # builds the jar if it is stale
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for cfg in off on; do
  if [ "$cfg" = off ]; then opts=(--no-checkpoint); else opts=(--interval "$iv" --stats); fi
  echo "profile: $w size=$size, checkpointing $cfg..." >&2
  java -XX:+UseParallelGC -XX:StartFlightRecording=filename="$tmp/$cfg.jfr",settings=profile \
      -jar cli/target/vmm.jar run "$w" --append "size=$size" "${opts[@]}" > /dev/null 2> "$tmp/$cfg.err"
  jfr print --json --events jdk.ExecutionSample --stack-depth 64 "$tmp/$cfg.jfr" > "$tmp/$cfg.json"
done
python3 benchmarks/profile-report.py "$w" "$size" "$iv" "$tmp/off.json" "$tmp/on.json" "$tmp/on.err" > docs/profile.md
echo "wrote docs/profile.md" >&2
