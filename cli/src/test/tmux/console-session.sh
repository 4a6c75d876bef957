#!/usr/bin/env bash
# Drives `vmm console` on a real terminal (tmux): run, pause, checkpoints, rollback, continue to the
# end. Checks that the guest output of the final timeline equals an uninterrupted run's
# (guests/expected/WORKLOAD.test.txt) and that vmm exits with status 0, then writes the session's
# transcript to docs/console.md.
#
#   cli/src/test/tmux/console-session.sh            # uses ./vmm (which builds itself when stale)
#   VMM="java -jar cli/target/vmm.jar" cli/src/test/tmux/console-session.sh
#   WORKLOAD=mcf NO_DOC=1 cli/src/test/tmux/console-session.sh   # another guest; leave docs/ alone
#
# Needs tmux. Exits 0 when every check passes, 1 otherwise (with the screen so far).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
cd "$root"
workload="${WORKLOAD:-gametree}"
vmm="${VMM:-./vmm}"
expected="guests/expected/$workload.test.txt"
command -v tmux >/dev/null || { echo "console-session: tmux is not installed" >&2; exit 1; }
[ -f "$expected" ] || { echo "console-session: no $expected" >&2; exit 1; }

work="$(mktemp -d)"
session="vmm-console-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

args="$workload --append size=test --interval 10ms"
tmux new-session -d -s "$session" -x 132 -y 60 \
  "cd '$root' && printf '\$ vmm console %s\n' '$args' && VMM_HISTORY='$work/history' $vmm console $args --output '$work/output.txt'; echo \"[vmm exited with status \$?]\"; sleep 600"
tmux set-option -t "$session" history-limit 10000 >/dev/null

screen() { tmux capture-pane -t "$session" -p -J -S - -E -; }
fail() {
  echo "console-session: $*" >&2
  echo "--- the screen:" >&2
  screen >&2
  exit 1
}
# wait_for TEXT [SECONDS]: until TEXT is on the screen (the whole history).
wait_for() {
  local text="$1" limit="${2:-120}" i=0
  while ! screen | grep -qF -- "$text"; do
    sleep 0.1
    i=$((i + 1))
    [ "$i" -lt $((limit * 10)) ] || fail "'$text' did not appear within ${limit}s"
  done
}
# count TEXT: how many screen lines hold TEXT.
count() { screen | grep -cF -- "$1" || true; }
# type LINE: types a command line and presses Enter, as a user would.
type_line() { tmux send-keys -t "$session" -l -- "$1"; tmux send-keys -t "$session" Enter; }
# prompt_shown: whether the console's prompt is the last thing on the screen (it is reading).
prompt_shown() { [ "$(screen | sed -e 's/[[:space:]]*$//' | grep -v '^$' | tail -n 1)" = "(vmm)" ]; }
# command LINE TEXT [SECONDS]: types LINE, waits for one more line holding TEXT than there was
# before, then for the prompt (so that the next line is not typed ahead of it).
command() {
  local before i=0
  before="$(count "$2")"
  type_line "$1"
  while [ "$(count "$2")" -le "$before" ] || { [ "$1" != quit ] && ! prompt_shown; }; do
    sleep 0.1
    i=$((i + 1))
    [ "$i" -lt $((${3:-30} * 10)) ] || fail "'$2' and a prompt did not appear within ${3:-30}s of '$1'"
  done
}

wait_for "'run' starts it" 600        # the first start may build ./vmm: give it time
i=0; until prompt_shown; do sleep 0.1; i=$((i + 1)); [ "$i" -lt 300 ] || fail "no prompt"; done
command "help" "'help COMMAND' tells more"
command "until 12M" "running until instruction"
command "wait" "reached instruction 12000000"
command "run" "running"
command "pause" "paused at 0x"
[ "$(count 'guest exited')" -eq 0 ] || fail "the guest ended before the pause"
command "checkpoints" "now: instruction"
command "rollback -3" "rolled back to checkpoint"
command "status" "paused at 0x"
command "set interval 5ms" "checkpoints retained stay"
command "continue" "guest exited with status 0" 120
command "stats" "of host time running"
command "quit" "[vmm exited with status 0]"

cmp -s "$work/output.txt" "$expected" || {
  diff "$expected" "$work/output.txt" >&2 || true
  fail "the final timeline's output differs from $expected"
}
echo "console-session: the final timeline's output equals $expected; vmm exited with status 0"

[ -n "${NO_DOC:-}" ] && exit 0
transcript="$(screen | sed -e 's/[[:space:]]*$//' -e '/^\[vmm exited with status 0\]$/d' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')"
{
  cat <<DOC
# The rollback console

\`vmm console\` runs a guest under a command line in the manner of a debugger. The guest starts
paused before its first instruction and runs in the background once told to; its output appears
above the prompt. Ctrl-C pauses it. Tab completes commands and their arguments, the history is kept
in \`~/.vmm_history\` (or \`\$VMM_HISTORY\`), and \`help COMMAND\` explains each command. \`vmm run\` on
a terminal gives the keyboard to the guest; Ctrl-A c pauses it into this console, Ctrl-A x quits.

The session below is a real terminal session, recorded in tmux by
\`cli/src/test/tmux/console-session.sh\`, which also regenerates this page. The guest runs to an
instruction count, runs on, is paused, rolls back three checkpoints, shortens the epochs (the
checkpoints taken so far stay) and runs on to its end.
Rolling back forks the guest's timeline: what it printed after the checkpoint it prints again. The
script checks that the guest's output on the final timeline (\`--output\`) equals an uninterrupted
run's, \`guests/expected/$workload.test.txt\`. Where the pause lands depends on timing, so the
numbers after it differ from run to run.

\`\`\`text
$transcript
\`\`\`

## Durations, settings and scripts

Every duration the console and the command line take has one syntax: a number, a fraction
allowed, and a unit: \`ns\`, \`us\`, \`ms\`, \`s\` of guest time (\`250us\`, \`1.5s\`, \`0.2s\`), or
\`i\` for guest instructions where a count of instructions makes sense (\`--interval\`,
\`--time-limit\`, \`set interval\`: \`500000i\`, \`2.5Mi\`). \`set interval\`, \`set predictor\`,
\`set latency\` and \`set keep\` all change the engine in place: the checkpoints taken so far stay,
with their ids (a smaller \`keep\` drops the oldest). An interval must be at least 10,000 guest
instructions' worth (100 us at the default \`--ips\`): below that the checkpoint pauses take longer
than the guest's own execution (\`vmm console --help\` and \`vmm run --help\` say so too).

The console reads its commands from a pipe or a file as well (\`vmm console mcf < script.txt\`):
each command is echoed after the prompt, so the output reads as a transcript, and the exit status
is 0 when every command worked; otherwise it is the status of the first command that failed (64
for a mistake such as an unknown command, 73 for a file that cannot be written), and a line on
standard error names that command and its line.
DOC
} > docs/console.md
echo "console-session: wrote docs/console.md"
