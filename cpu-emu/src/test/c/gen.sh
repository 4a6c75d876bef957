#!/bin/sh
# Regenerates the oracle32 test vectors (src/test/resources/oracle32/*.txt.gz)
# by running oracle32.c natively.  Needs an x86 host and gcc with 32-bit
# multilib support (Debian: gcc-multilib).  The output is deterministic on a
# given machine: rerunning reproduces byte-identical files (gzip -n stores no
# name or timestamp).  Afterwards, oracle32_check.py verifies every record
# against an independent SDM-based model.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../resources/oracle32"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
gcc -m32 -O1 -fno-pie -no-pie -Wall -Wextra -o "$tmp/oracle32" "$here/oracle32.c"
mkdir -p "$tmp/out" "$out"
"$tmp/oracle32" "$tmp/out"
for f in alu shift muldiv bit bcd misc; do
    gzip -n -9 -c "$tmp/out/$f.txt" > "$out/$f.txt.gz"
done
if command -v python3 >/dev/null 2>&1; then
    python3 "$here/oracle32_check.py" "$out" > "$tmp/check.log" || { cat "$tmp/check.log"; exit 1; }
    head -1 "$tmp/check.log"
fi
ls -l "$out"
