#!/usr/bin/env bash
# Cold-start benchmarks: each measurement in a fresh JVM (dev.kiln.bench.ColdStart), RESULT lines in the
# anchors' format, also written to bench/target/coldstart.tsv. About 2 minutes on an idle 2-core machine
# with the default 3 runs each.
#   usage: bench/coldstart.sh [w1|windows|mnist|all] [runs]
#   env:   KILN_JAVA=/path/to/java     a JDK >= 21 (default: found as the launchers find it)
#          KILN_SKIP_BUILD=1           reuse bench/target/benchmarks.jar (mnist still builds the example if needed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source "$ROOT/scripts/find-java.sh"
if [ -z "${KILN_JAVA:-}" ]; then
  KILN_JAVA=$(NAME=bench find_java)
fi
if [ "${KILN_SKIP_BUILD:-0}" != 1 ]; then
  JAVA_HOME="$(jdk_home "$KILN_JAVA")" mvn -q -B -pl bench,examples -am package -DskipTests
fi
mkdir -p bench/target
"$KILN_JAVA" -cp bench/target/benchmarks.jar dev.kiln.bench.ColdStart "$@" 2>&1 | tee bench/target/coldstart.log
grep '^RESULT' bench/target/coldstart.log > bench/target/coldstart.tsv || true
