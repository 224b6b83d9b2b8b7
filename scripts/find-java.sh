# Sourced by the launchers: `find_java` prints a java binary of a JDK >= 21 — JAVA_HOME's, then the
# one on the PATH, then the newest under /usr/lib/jvm — or fails naming where it looked. Messages
# are prefixed with $NAME when set.

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
  echo "${NAME:-kiln}: needs a JDK 21 or newer; none found (JAVA_HOME, java on the PATH, /usr/lib/jvm/*). Install one or set JAVA_HOME." >&2
  exit 1
}

# The JDK home of a java binary. Maven packages on it (JAVA_HOME=... mvn package): the jar tool that
# makes a modular jar runs in Maven's own JVM and cannot read a module-info.class newer than itself.
jdk_home() {
  dirname "$(dirname "$(readlink -f "$1")")"
}
