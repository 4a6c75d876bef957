#!/usr/bin/env bash
# What an attached gdb costs a guest that runs forward: `vmm run W --append size=bench` alone, and
# with --gdb and a gdb that attaches and continues to the end (the stub then takes a snapshot every
# million instructions, for reverse moves later). Alternates the two PAIRS times (default 5) and
# prints each pair's wall and CPU times, then the median ratio and its spread.
#
#   benchmarks/gdb-overhead.sh [WORKLOAD] [PAIRS]     (default: compress 5)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t jvm_options < <(grep -v '^#' jvm.options) # what ./vmm execs
./vmm --version >/dev/null 2>&1 || true
w=${1:-compress}
pairs=${2:-5}
jar=cli/target/vmm.jar
mkdir -p benchmarks/target
tmp=$(mktemp -d -p benchmarks/target gdb-overhead.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cat > "$tmp/continue.py" <<'PY'
import gdb, os
gdb.execute("set pagination off")
gdb.execute("target remote localhost:" + os.environ["PORT"])
gdb.execute("continue")
PY
plain() {
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" java "${jvm_options[@]}" -jar "$jar" run "$w" --append size=bench >/dev/null
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$tmp/t"
}
with_gdb() {
  rm -f "$tmp/err"
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" java "${jvm_options[@]}" -jar "$jar" run "$w" --append size=bench --gdb tcp::0 --gdb-wait \
    >/dev/null 2>"$tmp/err" &
  pid=$!
  local port=
  for _ in $(seq 200); do
    port=$(sed -n 's/.*gdb stub listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/err" 2>/dev/null | head -1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  PORT=$port gdb -batch -nx -x "$tmp/continue.py" "guests/build/$w.elf" >/dev/null 2>&1
  wait $pid
  pid=
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$tmp/t"
}
echo "pair  alone wall/cpu s   with gdb wall/cpu s   ratio wall  ratio cpu"
ratios_w=(); ratios_c=()
for i in $(seq "$pairs"); do
  read -r aw ac <<<"$(plain)"
  read -r gw gc <<<"$(with_gdb)"
  rw=$(awk -v a="$aw" -v b="$gw" 'BEGIN{printf "%.3f", b/a}')
  rc=$(awk -v a="$ac" -v b="$gc" 'BEGIN{printf "%.3f", b/a}')
  ratios_w+=("$rw"); ratios_c+=("$rc")
  printf "%4d  %6s / %-6s        %6s / %-6s        %s      %s\n" "$i" "$aw" "$ac" "$gw" "$gc" "$rw" "$rc"
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f (%.3f-%.3f)", m, a[1], a[NR]}'; }
echo "median ratio, with gdb / alone: wall $(med "${ratios_w[@]}"), cpu $(med "${ratios_c[@]}")"
