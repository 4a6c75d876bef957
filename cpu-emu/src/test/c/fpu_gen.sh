#!/bin/sh
# Regenerates the x87 test vectors (src/test/resources/fpu/fpu.txt.gz) by
# running fpu_oracle.c natively.  Needs an x86 host and gcc with 32-bit
# multilib support (Debian: gcc-multilib).  Deterministic on a given machine
# (gzip -n stores no name or timestamp).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../resources/fpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
gcc -m32 -O1 -fno-pie -no-pie -Wall -Wextra -o "$tmp/fpu_oracle" "$here/fpu_oracle.c"
"$tmp/fpu_oracle" "$tmp/fpu.txt"
mkdir -p "$out"
gzip -n -9 -c "$tmp/fpu.txt" > "$out/fpu.txt.gz"
ls -l "$out"
