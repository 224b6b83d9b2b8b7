#!/usr/bin/env bash
# Builds the benchmarks jar and runs every JMH benchmark (W1, W3, W4, sgemm), printing medians and
# RESULT lines in the format of ../shared/anchors. About 5 minutes on 2 cores.
#   usage: bench/run.sh [regex]        e.g. bench/run.sh W4   (only the matching benchmarks)
#   env:   KILN_JAVA=/path/to/java     a JDK >= 21 (default: found as the launchers find it, scripts/find-java.sh)
#          KILN_SKIP_BUILD=1           reuse bench/target/benchmarks.jar
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source "$ROOT/scripts/find-java.sh"
if [ -z "${KILN_JAVA:-}" ]; then
  KILN_JAVA=$(NAME=bench find_java)
fi
if [ "${KILN_SKIP_BUILD:-0}" != 1 ]; then
  JAVA_HOME="$(jdk_home "$KILN_JAVA")" mvn -q -B -pl bench -am package -DskipTests
fi
JVM_ARGS="--enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector"
mkdir -p bench/target
"$KILN_JAVA" $JVM_ARGS -Dkiln.bench.jvmArgs="$JVM_ARGS" -cp bench/target/benchmarks.jar dev.kiln.bench.RunAll "$@" \
  2>&1 | tee bench/target/run.log
grep '^RESULT' bench/target/run.log > bench/target/results.tsv || true
echo "RESULT lines also in bench/target/results.tsv (merge: python3 ../shared/anchors/side_by_side.py ../shared/anchors/results/run-X bench/target/results.tsv)"
