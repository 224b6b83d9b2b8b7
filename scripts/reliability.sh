#!/usr/bin/env bash
# Kiln's reliability campaigns (bench module, package dev.kiln.reliability): bad API calls, 8-thread
# concurrency, soak with the heap after GC sampled, parser fuzzing, .npy/IDX fuzzing, and checkpoints
# (crafted files, SIGKILL mid-save, saves under concurrent training). Prints each campaign's detail,
# then one table: a line per check with tried / handled / failed and the failures' first examples.
#   usage: scripts/reliability.sh [--quick]    (--quick: about a tenth of each campaign)
#   env:   KILN_JAVA=/path/to/java    a JDK >= 21 (default: found as the launchers find it)
#          KILN_SKIP_BUILD=1          reuse the classes already compiled
#          KILN_MVN_FLAGS=-o          extra Maven flags for the build (e.g. offline)
# Logs and the summary rows go to bench/target/reliability/. Exit status: 0 when every check passed,
# 1 when some failed, 3 when a campaign did not finish.
set -uo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
SCALE=1
case "${1:-}" in
  --quick) SCALE=0.1 ;;
  "") ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "reliability.sh: unknown argument '$1' (try --quick or --help)" >&2; exit 2 ;;
esac
if [ -z "${KILN_JAVA:-}" ]; then
  source "$ROOT/scripts/find-java.sh"
  KILN_JAVA=$(NAME=reliability find_java) || exit 1
fi
if [ "${KILN_SKIP_BUILD:-0}" != 1 ]; then
  echo "reliability: building (mvn -pl bench -am compile) ..." >&2
  # shellcheck disable=SC2086
  if ! mvn -q -B -Dstyle.color=never ${KILN_MVN_FLAGS:-} -pl bench -am compile dependency:build-classpath \
      -Dmdep.outputFile=target/reliability-classpath.txt 1>&2; then
    echo "reliability: the build failed; see the Maven output above." >&2
    exit 1
  fi
fi
CP="$ROOT/bench/target/classes:$(cat "$ROOT/bench/target/reliability-classpath.txt")"
OUT="$ROOT/bench/target/reliability"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.tsv"
rm -f "$SUMMARY"
FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector -XX:+UseParallelGC)
START=$(date +%s)
CAMPAIGNS=0

# campaign HEAP MAIN: one JVM per campaign, each with the heap it is meant to run in.
campaign() {
  local heap=$1 main=$2
  CAMPAIGNS=$((CAMPAIGNS + 1))
  timeout 1500 "$KILN_JAVA" "${FLAGS[@]}" "-Xmx$heap" -Dkiln.reliability.scale="$SCALE" \
    -Dkiln.reliability.root="$ROOT" -Dkiln.reliability.summary="$SUMMARY" \
    -cp "$CP" "dev.kiln.reliability.$main" 2>&1 | grep -v '^WARNING: Using incubator modules' | tee "$OUT/$main.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" != 0 ]; then
    echo "reliability: campaign $main exited with status $rc" | tee -a "$OUT/$main.log"
  fi
}

campaign 1g BadApiCalls
campaign 512m Concurrency
campaign 1g Soak
campaign 512m ParserFuzz
# A modest heap, so that an allocation sized from an unchecked header shows as OutOfMemoryError.
campaign 512m FileFuzz
campaign 512m Checkpoints

"$KILN_JAVA" -cp "$CP" dev.kiln.reliability.Summary "$SUMMARY" "$CAMPAIGNS" | tee "$OUT/summary.txt"
STATUS=${PIPESTATUS[0]}
echo "reliability: $(( $(date +%s) - START )) s in all (scale $SCALE); detail in $OUT/" | tee -a "$OUT/summary.txt"
exit "$STATUS"
