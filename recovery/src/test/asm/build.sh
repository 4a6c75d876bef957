#!/bin/sh
# Rebuilds recovery/src/test/resources/faultlab.bin (a flat binary loaded at 0x100000) and prints the
# addresses of the labels the tests inject at. Needs GNU binutils (as, ld, objcopy, nm).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
as --32 -o "$tmp/faultlab.o" faultlab.S
ld -m elf_i386 -Ttext=0x100000 -Tdata=0x101000 -e _start -o "$tmp/faultlab.elf" "$tmp/faultlab.o"
objcopy -O binary "$tmp/faultlab.elf" ../resources/faultlab.bin
nm "$tmp/faultlab.elf" | grep -E " (dead_here|masked_here|call_here|late_loop|buffer|hold_loop|hang_loop)$" | awk "{print \$3, \$1}" | sort > ../resources/faultlab.labels
cat ../resources/faultlab.labels
rm -rf "$tmp"
