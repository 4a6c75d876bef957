#!/usr/bin/env bash
# Records the values RecordedBeforeTest compares against: instruction count, registers and a RAM
# hash at every checkpoint (10 ms of guest time; 100,000 instructions for the kernel) and at the end of every bundled workload at
# size=test and of guests/kernels/pmkernel, computed by the interpreter of the checked-out commit.
# Run it on the commit BEFORE an interpreter rewrite; the rewrite is then judged against it.
#   checkpoint/record-before.sh        writes checkpoint/src/test/resources/recorded-before.tsv
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/checkpoint/src/test/resources/recorded-before.tsv"
mkdir -p "$(dirname "$out")"
commit=$(git rev-parse HEAD)
[ -z "$(git status --porcelain -- cpu-emu vmm-core)" ] || commit="$commit+local changes to cpu-emu/vmm-core"
mvn -B -q -pl checkpoint -am verify -Dtest='RecordedBeforeTest#recordWhenAsked' \
    -Dsurefire.failIfNoSpecifiedTests=false -Drecord.before="$out" -Drecord.commit="$commit"
echo "wrote $out ($(grep -vc '^#' "$out") points, from $commit)" >&2
