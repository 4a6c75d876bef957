#!/usr/bin/env bash
# Latency of reverse execution as a gdb user gets it: for each bundled workload (size=bench, the
# default 50 ms interval), vmm run --gdb under gdb -batch; 100 consecutive reverse-stepi from a
# breakpoint reached by running forward, 100 (continue, then a timed reverse-continue back to the
# previous hit), and 100 consecutive reverse-continues walking back hit by hit. Wall time around
# each gdb command, gdb's own work after the stop included.
#
#   benchmarks/gdb-latency.sh [WORKLOAD...]      (default: all nine; N=100 samples per phase)
# Writes docs/data/gdb-latency.json (one line per workload) and docs/data/gdb-latency.md (the table),
# puts the table into docs/debugging.md between the latency markers, and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t jvm_options < <(grep -v '^#' jvm.options) # what ./vmm execs
./vmm --version >/dev/null 2>&1 || true   # builds the jar if needed
jar=cli/target/vmm.jar
N=${N:-100}
out=docs/data/gdb-latency.json
mkdir -p benchmarks/target
tmp=$(mktemp -d -p benchmarks/target gdb-latency.XXXXXX)
vmm=
trap '[ -n "$vmm" ] && kill "$vmm" 2>/dev/null; rm -rf "$tmp"' EXIT

# workload  breakpoint-to-get-deep  its-ignore-count  breakpoint-hit-often
configs=(
  "compress compress_block 1 put_run"
  "mcf spfa 200 spfa"
  "gametree alphabeta 0 alphabeta"
  "align align.c:56 1500 align.c:56"
  "quantum apply 1 quantum.c:48"
  "motion sad16 2300 sad16"
  "astar search 0 touch"
  "churn verify 0 verify"
  "timer on_tick 240 on_tick"
)
want=("$@")
: > "$out.new"
for c in "${configs[@]}"; do
  read -r w depth ignore hot <<<"$c"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $w " ]]; then continue; fi
  echo "gdb-latency: $w" >&2
  java "${jvm_options[@]}" -jar "$jar" run "$w" --append size=bench --gdb tcp::0 --gdb-wait >"$tmp/$w.out" 2>"$tmp/$w.err" &
  vmm=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/.*gdb stub listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$w.err" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$tmp/$w.err" >&2; exit 1; }
  PORT=$port DEPTH_BREAK=$depth DEPTH_IGNORE=$ignore HOT_BREAK=$hot N=$N OUT="$tmp/$w.json" \
    gdb -batch -nx -x benchmarks/gdb_latency.py "guests/build/$w.elf" >"$tmp/$w.gdb" 2>&1 || { tail -20 "$tmp/$w.gdb" >&2; }
  wait $vmm || true
  vmm=
  [ -s "$tmp/$w.json" ] || { echo "gdb-latency: $w produced no result" >&2; tail -20 "$tmp/$w.gdb" >&2; exit 1; }
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["workload"]=sys.argv[2]; print(json.dumps(r))' "$tmp/$w.json" "$w" >> "$out.new"
done
mv "$out.new" "$out"
python3 - "$out" > docs/data/gdb-latency.md <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| workload | at instruction | reverse-stepi median / p95 (first) | reverse-continue after continue median / p95 (hits apart) | reverse-continue walking back median / p95 (n) |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    a, b, c = r["rsi"], r["rc_after_continue"], r["rc_walk"]
    print("| %s | %s | %.1f / %.1f ms (%.0f) | %.1f / %.1f ms (%s instr.) | %.1f / %.1f ms (%d) |" % (
        r["workload"], format(r["depth"], ","), a["median"], a["p95"], a["first"], b["median"], b["p95"],
        format(r["hit_spacing_median"], ","), c["median"], c["p95"], r["rc_walk_landed"]))
PY
python3 - docs/debugging.md docs/data/gdb-latency.md <<'PY'
import sys
path, table = sys.argv[1], open(sys.argv[2]).read().strip()
doc = open(path).read()
begin, end = "<!-- latency: begin -->", "<!-- latency: end -->"
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + begin + "\n" + table + "\n" + end + tail)
PY
cat docs/data/gdb-latency.md
