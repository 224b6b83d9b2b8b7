#!/usr/bin/env bash
# Builds the examples (skipping tests) and runs one of them with a JDK >= 21.
#   usage: examples/run.sh [MainClass] [args...]     default: MnistClassifier
#   env:   KILN_JAVA=/path/to/java   (default: temurin 25 if present, else java on PATH)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -z "${KILN_JAVA:-}" ]; then
  if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
    KILN_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
  else
    KILN_JAVA=java
  fi
fi
MAIN=${1:-MnistClassifier}
[ $# -gt 0 ] && shift
mvn -q -B -pl examples -am package -DskipTests
exec "$KILN_JAVA" --enable-native-access=ALL-UNNAMED -cp "examples/target/classes:$(cat examples/target/classpath.txt)" "dev.kiln.examples.$MAIN" "$@"
