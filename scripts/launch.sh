#!/usr/bin/env bash
# Runs a main class of one of Kiln's modules: `scripts/launch.sh MODULE MAIN_CLASS [ARGS...]`.
# Finds a JDK >= 21 by itself (JAVA_HOME, then java on the PATH, then the newest under
# /usr/lib/jvm), builds the module and what it depends on when its jar or classpath is missing or
# older than the sources, then runs the class. Build output goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
MODULE="$1"; MAIN="$2"; shift 2
TARGET="$ROOT/$MODULE/target"
CLASSPATH_FILE="$TARGET/classpath.txt"
JAR="$TARGET/$MODULE-0.1.0-SNAPSHOT.jar"
NAME="${KILN_LAUNCHER_NAME:-$MODULE}"

# The feature release of a java binary: 21 for "21.0.2", 8 for "1.8.0".
java_major() {
  "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && (( $(java_major "$JAVA_HOME/bin/java") >= 21 )); then
    echo "$JAVA_HOME/bin/java"; return
  fi
  if command -v java > /dev/null && (( $(java_major java) >= 21 )); then
    command -v java; return
  fi
  local best="" best_version=0 candidate version
  for candidate in /usr/lib/jvm/*/bin/java; do
    [[ -x "$candidate" ]] || continue
    version=$(java_major "$candidate")
    if (( version > best_version )); then best="$candidate"; best_version=$version; fi
  done
  if (( best_version >= 21 )); then echo "$best"; return; fi
  echo "$NAME: needs a JDK 21 or newer; none found (JAVA_HOME, java on the PATH, /usr/lib/jvm/*). Install one or set JAVA_HOME." >&2
  exit 1
}

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
  if ! (cd "$ROOT" && mvn -q -B -Dstyle.color=never -pl "$MODULE" -am package -DskipTests 1>&2); then
    echo "$NAME: the build failed; see the Maven output above." >&2
    exit 1
  fi
  touch "$CLASSPATH_FILE"
fi
JVM_FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector)
exec "$JAVA" "${JVM_FLAGS[@]}" ${KILN_JAVA_OPTS:-} -cp "$JAR:$(cat "$CLASSPATH_FILE")" "$MAIN" "$@"
