#!/bin/sh
# Runs every guest image under qemu-system-i386 and compares its console with
# the committed expected output of the host oracle build.
# Usage: check-qemu.sh [-s test|bench] [-t timeout_seconds] [workload...]
# Default: size=test, all workloads listed in build/workloads.tsv, 120 s each.
set -u
cd "$(dirname "$0")"
size=test
tmo=120
while getopts s:t: opt; do
    case $opt in
        s) size=$OPTARG ;;
        t) tmo=$OPTARG ;;
        *) echo "usage: $0 [-s test|bench] [-t seconds] [workload...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
    set -- $(cut -f1 build/workloads.tsv)
fi
QEMU=${QEMU:-qemu-system-i386}
command -v "$QEMU" >/dev/null 2>&1 || { echo "check-qemu: $QEMU not found" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for w in "$@"; do
    img=build/$w.elf
    exp=expected/$w.$size.txt
    if [ ! -f "$img" ] || [ ! -f "$exp" ]; then
        echo "FAIL $w: missing $img or $exp"
        fail=1
        continue
    fi
    start=$(date +%s)
    timeout "$tmo" "$QEMU" -kernel "$img" -append "size=$size" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -serial stdio -display none -no-reboot \
        < /dev/null > "$out/$w.out" 2> "$out/$w.err"
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -ne 1 ]; then
        # QEMU exits with (v << 1) | 1 for isa-debug-exit value v; 124 is the timeout
        echo "FAIL $w: exit status $rc (expected 1, i.e. guest status 0) after ${secs}s"
        sed 's/^/    /' "$out/$w.out" | tail -5
        sed 's/^/    qemu: /' "$out/$w.err" | tail -3
        fail=1
    elif ! cmp -s "$out/$w.out" "$exp"; then
        echo "FAIL $w: console output differs from $exp"
        diff "$exp" "$out/$w.out" | head -10 | sed 's/^/    /'
        fail=1
    else
        echo "ok   $w (size=$size, ${secs}s)"
    fi
done
[ $fail -eq 0 ] && echo "check-qemu: all passed" || echo "check-qemu: FAILED"
exit $fail
