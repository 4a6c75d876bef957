#!/usr/bin/env bash
# Rewrites the soak summary section of docs/reliability.md from the JSON a soak run wrote:
#   benchmarks/soak-report.sh SOAK.json [DOC.md]
# The soak itself: java -cp benchmarks/target/benchmarks.jar io.mucheckpoint.bench.Soak --minutes 30 --json SOAK.json
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: benchmarks/soak-report.sh SOAK.json [docs/reliability.md]" >&2
  exit 64
fi
jar=benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
  mvn -B -q -o package -DskipTests -pl benchmarks -am || mvn -B -q package -DskipTests -pl benchmarks -am
fi
exec java -cp "$jar" io.mucheckpoint.bench.SoakReport "$1" "${2:-docs/reliability.md}"
