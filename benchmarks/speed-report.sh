#!/usr/bin/env bash
# Writes docs/speed.md and docs/img/speed.png from the data files of benchmarks/speed.sh, one per
# sitting, oldest first (the first is the "before" of the comparison, the last the newest):
#   benchmarks/speed-report.sh docs/data/speed-before.tsv docs/data/speed-after.tsv
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: benchmarks/speed-report.sh DATA.tsv... (oldest first)" >&2; exit 64; }
jar=benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ] || [ -n "$(find benchmarks/src -newer "$jar" -print -quit)" ]; then
  mvn -B -q -o package -DskipTests -pl benchmarks -am || mvn -B -q package -DskipTests -pl benchmarks -am
fi
exec java -cp "$jar" io.mucheckpoint.bench.SpeedReport "$@" --docs docs
