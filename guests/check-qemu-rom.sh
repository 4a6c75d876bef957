#!/bin/sh
# Runs the ROM guest (build/rom.bin) under qemu-system-i386 -bios and compares its console (COM1)
# and its POST codes (port 0x80, captured by an isa-debugcon at that port) with the expected output
# written from the guest's source (expected/rom.txt, expected/rom.post), and its exit status
# (isa-debug-exit) with 0. The same files are what vmm-core's RomGuestTest holds our VMM to.
# Usage: check-qemu-rom.sh [-t timeout_seconds]      Exit: 0 same, 1 differs, 2 no QEMU or bad usage.
set -u
cd "$(dirname "$0")"
tmo=60
while getopts t: opt; do
    case $opt in
        t) tmo=$OPTARG ;;
        *) echo "usage: $0 [-t seconds]" >&2; exit 2 ;;
    esac
done
QEMU=${QEMU:-qemu-system-i386}
command -v "$QEMU" >/dev/null 2>&1 || { echo "check-qemu-rom: $QEMU not found" >&2; exit 2; }
for f in build/rom.bin expected/rom.txt expected/rom.post; do
    [ -f "$f" ] || { echo "FAIL rom: missing $f"; exit 1; }
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
timeout "$tmo" "$QEMU" -nodefaults -machine pc -bios build/rom.bin -display none -no-reboot \
    -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
    -chardev file,id=post,path="$out/post.bin" -device isa-debugcon,iobase=0x80,chardev=post \
    < /dev/null > "$out/console.txt" 2> "$out/qemu.err"
rc=$?
od -An -v -tx1 "$out/post.bin" | tr -s ' \n' '\n' | sed '/^$/d' > "$out/post.txt"
fail=0
if [ $rc -ne 1 ]; then
    # QEMU exits with (v << 1) | 1 for isa-debug-exit value v; 124 is the timeout
    echo "FAIL rom: exit status $rc (expected 1, i.e. guest status 0)"
    sed 's/^/    qemu: /' "$out/qemu.err" | tail -3
    fail=1
fi
if ! cmp -s "$out/console.txt" expected/rom.txt; then
    echo "FAIL rom: console output differs from expected/rom.txt"
    diff expected/rom.txt "$out/console.txt" | head -20 | sed 's/^/    /'
    fail=1
fi
if ! cmp -s "$out/post.txt" expected/rom.post; then
    echo "FAIL rom: POST codes differ from expected/rom.post"
    diff expected/rom.post "$out/post.txt" | head -20 | sed 's/^/    /'
    fail=1
fi
[ $fail -eq 0 ] && echo "ok   rom (qemu -bios: console, POST codes and exit status as expected)"
exit $fail
