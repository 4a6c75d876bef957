#!/usr/bin/env bash
# Where the host time goes, sampled so that every sample lands on the machine code that was running:
# `perf record` (timer-based sampling of the instruction pointer) with the JIT's own symbol map
# (-XX:+DumpPerfMapAtExit), and the JIT's own account of what it compiled and inlined
# (-XX:+PrintCompilation -XX:+PrintInlining -XX:+CITime, sent to a log file). Runs a workload with
# checkpointing off and on and writes docs/profile.md.
#   benchmarks/profile.sh [WORKLOAD (compress)] [INTERVAL (10ms)] [ARGS (size=bench)]
# Needs perf (Debian: linux-perf) and kernel.perf_event_paranoid <= 2 (root is fine).
#
# Why not JFR or async-profiler in Java mode: they walk Java frames at safepoint-free points and
# attribute a sample inside a large compiled method with inlined callees to whatever frame the
# debug info says, which put 17.7 % on Registers.getReg and 22.6 % on Cpu.alu in the former version
# of this page, methods that were not even compiled on their own. A perf sample is an instruction
# address: it lands in exactly one compiled method (inlined callees count for the method they were
# inlined into, which is where their cost is), in the JIT compiler, the GC or the JVM.
set -euo pipefail
cd "$(dirname "$0")/.."
w=${1:-compress}
iv=${2:-10ms}
args=${3:-size=bench}
command -v perf >/dev/null || { echo "profile.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 69; }
./vmm --version > /dev/null # builds the jar if it is stale
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp cli/target/vmm.jar "$tmp/vmm.jar"
for cfg in off on; do
  if [ "$cfg" = off ]; then opts=(--no-checkpoint --stats); else opts=(--interval "$iv" --stats); fi
  echo "profile: $w $args, checkpointing $cfg..." >&2
  perf record -q -F 499 -o "$tmp/$cfg.data" -- \
    java $(grep -v "^#" jvm.options | tr "\n" " ") -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit \
      -XX:+PrintCompilation -XX:+PrintInlining -XX:+CITime -XX:+LogVMOutput -XX:-DisplayVMOutput -XX:LogFile="$tmp/$cfg.jit" \
      -jar "$tmp/vmm.jar" run "$w" --append "$args" "${opts[@]}" > /dev/null 2> "$tmp/$cfg.err"
  perf report -i "$tmp/$cfg.data" --stdio --sort comm,symbol 2>/dev/null > "$tmp/$cfg.perf"
done
python3 benchmarks/profile-report.py "$w" "$args" "$iv" "$tmp" > docs/profile.md
echo "wrote docs/profile.md" >&2
