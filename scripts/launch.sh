#!/usr/bin/env bash
# Runs a main class of one of Kiln's modules: `scripts/launch.sh [--no-vector] MODULE MAIN_CLASS [ARGS...]`.
# Finds a JDK >= 21 by itself (JAVA_HOME, then java on the PATH, then the newest under
# /usr/lib/jvm), builds the module and what it depends on when its jar or classpath is missing or
# older than the sources, then runs the class. Build output goes to stderr.
# JVM flags: --enable-native-access=ALL-UNNAMED (OpenBLAS/MKL downcalls and JNI without warnings) and
# --add-modules=jdk.incubator.vector (fused kernels use the Vector API), which --no-vector leaves out
# for programs that compute nothing (the JVM then prints no incubator-module warning). KILN_JAVA_OPTS
# adds flags of your own (e.g. -Dkiln.progress=false).
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
VECTOR=1
if [[ "${1:-}" == --no-vector ]]; then
  VECTOR=0; shift
fi
MODULE="$1"; MAIN="$2"; shift 2
TARGET="$ROOT/$MODULE/target"
# KILN_CLASSPATH_FILE: another class path file the module's build writes (the Spark example's).
CLASSPATH_FILE="$TARGET/${KILN_CLASSPATH_FILE:-classpath.txt}"
JAR="$TARGET/$MODULE-0.1.0-SNAPSHOT.jar"
NAME="${KILN_LAUNCHER_NAME:-$MODULE}"

source "$ROOT/scripts/find-java.sh"

# Stale when the jar or classpath is missing, or any pom or main source is newer.
needs_build() {
  [[ -f "$JAR" && -f "$CLASSPATH_FILE" ]] || return 0
  local newer
  newer=$(find "$ROOT" -path "$ROOT/.git" -prune -o \( -name pom.xml -o -path '*/src/main/*' \) -type f \
      -newer "$CLASSPATH_FILE" -print -quit 2> /dev/null)
  [[ -n "$newer" ]]
}

JAVA=$(find_java)
if needs_build; then
  echo "$NAME: building (mvn -pl $MODULE -am package) ..." >&2
  if ! (cd "$ROOT" && JAVA_HOME="$(jdk_home "$JAVA")" mvn -q -B -Dstyle.color=never -pl "$MODULE" -am package -DskipTests 1>&2); then
    echo "$NAME: the build failed; see the Maven output above." >&2
    exit 1
  fi
  touch "$CLASSPATH_FILE"
fi
JVM_FLAGS=(--enable-native-access=ALL-UNNAMED)
if (( VECTOR )); then
  JVM_FLAGS+=(--add-modules=jdk.incubator.vector)
fi
exec "$JAVA" "${JVM_FLAGS[@]}" ${KILN_JAVA_OPTS:-} -cp "$JAR:$(cat "$CLASSPATH_FILE")" "$MAIN" "$@"
