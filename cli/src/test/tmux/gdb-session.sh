#!/usr/bin/env bash
# Drives gdb on a real terminal (tmux) against `vmm run timer --gdb`: breakpoints, stepping by
# source line, reverse-next and reverse-stepi, a watchpoint found backwards ("who wrote this?"),
# the start of history, monitor commands, detach. Checks that the guest, detached, runs to its end
# with the output of an uninterrupted run (guests/expected/timer.test.txt) and status 0, then writes
# the gdb session into docs/debugging.md between the transcript markers.
#
#   cli/src/test/tmux/gdb-session.sh                  # uses ./vmm (which builds itself when stale)
#   GDB_PORT=4321 NO_DOC=1 cli/src/test/tmux/gdb-session.sh
#
# Needs tmux and gdb. Exits 0 when every check passes, 1 otherwise (with the screen so far).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
cd "$root"
port="${GDB_PORT:-1234}"
vmm="${VMM:-./vmm}"
expected="guests/expected/timer.test.txt"
command -v tmux >/dev/null || { echo "gdb-session: tmux is not installed" >&2; exit 1; }
command -v gdb >/dev/null || { echo "gdb-session: gdb is not installed" >&2; exit 1; }

work="$(mktemp -d)"
session="vmm-gdb-$$"
vmm_pid=
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  [ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

vmm_args="timer --append size=test --gdb tcp::$port --gdb-wait"
$vmm run $vmm_args >"$work/guest.txt" 2>"$work/vmm.err" &
vmm_pid=$!
for _ in $(seq 600); do grep -q "gdb stub listening" "$work/vmm.err" 2>/dev/null && break; sleep 0.1; done
grep -q "gdb stub listening" "$work/vmm.err" || { cat "$work/vmm.err" >&2; echo "gdb-session: vmm did not start listening" >&2; exit 1; }

tmux new-session -d -s "$session" -x 132 -y 60 \
  "cd '$root' && printf '\$ gdb -q -iex \"set confirm off\" guests/build/timer.elf\n' && gdb -q -nx -iex 'set pagination off' -iex 'set confirm off' guests/build/timer.elf; sleep 600"
tmux set-option -t "$session" history-limit 10000 >/dev/null

screen() { tmux capture-pane -t "$session" -p -J -S - -E -; }
fail() {
  echo "gdb-session: $*" >&2
  echo "--- the screen:" >&2
  screen >&2
  echo "--- vmm:" >&2
  cat "$work/vmm.err" >&2
  exit 1
}
count() { screen | grep -cF -- "$1" || true; }
type_line() { tmux send-keys -t "$session" -l -- "$1"; tmux send-keys -t "$session" Enter; }
prompt_shown() { [ "$(screen | sed -e 's/[[:space:]]*$//' | grep -v '^$' | tail -n 1)" = "(gdb)" ]; }
# command LINE TEXT [SECONDS]: types LINE, waits for one more line holding TEXT than before, then the prompt.
command() {
  local before i=0
  before="$(count "$2")"
  type_line "$1"
  while [ "$(count "$2")" -le "$before" ] || ! prompt_shown; do
    sleep 0.1
    i=$((i + 1))
    [ "$i" -lt $((${3:-60} * 10)) ] || fail "'$2' and a prompt did not appear within ${3:-60}s of '$1'"
  done
}

i=0; until prompt_shown; do sleep 0.1; i=$((i + 1)); [ "$i" -lt 300 ] || fail "no gdb prompt"; done
command "target remote localhost:$port" "_start () at"
command "break on_tick" "Breakpoint 1 at"
command "continue" "Breakpoint 1, on_tick"
command "continue" "Breakpoint 1, on_tick"
command "print ticks" "= 1"
command "next" "for (int k = 0"
command "print ticks" "= 2"
command "reverse-next" "ticks++;"
command "print ticks" "= 1"
command "watch result_hash" "Hardware watchpoint 2: result_hash"
command "continue" "New value ="
command "continue" "New value ="
command "reverse-continue" "New value ="
command "x/i \$pc" "=> 0x"
command "info line *\$pc" "starts at address"
command "delete" ""
command "reverse-continue" "No more reverse-execution history."
command "print \$icount" "= 0"
command "monitor checkpoints" "now: instruction"
command "break on_tick" "Breakpoint 3 at"
command "continue" "Breakpoint 3, on_tick"
command "info registers eip esp icount" "icount"
command "delete" ""
command "detach" "detached"
type_line "quit"

wait $vmm_pid || { status=$?; vmm_pid=; fail "vmm exited with status $status"; }
vmm_pid=
cmp -s "$work/guest.txt" "$expected" || { diff "$expected" "$work/guest.txt" >&2 || true; fail "the guest's output differs from $expected"; }
echo "gdb-session: detached, the guest ran to its end with the output of $expected; vmm exited with status 0"

[ -n "${NO_DOC:-}" ] && exit 0
transcript="$(screen | sed -e 's/[[:space:]]*$//' | sed -e '/^(gdb) quit$/,$d' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')"
python3 - docs/debugging.md "$vmm_args" "$transcript" <<'PY'
import sys
path, args, transcript = sys.argv[1], sys.argv[2], sys.argv[3]
doc = open(path).read()
begin, end = "<!-- transcript: begin -->", "<!-- transcript: end -->"
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
block = "%s\n```text\n$ vmm run %s &\n%s\n```\n%s" % (begin, args, transcript, end)
open(path, "w").write(head + block + tail)
PY
echo "gdb-session: wrote the transcript into docs/debugging.md"
