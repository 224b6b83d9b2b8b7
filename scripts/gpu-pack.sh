#!/usr/bin/env bash
# Packs what the GPU test machine needs to run Kiln's CUDA tests and benchmarks (it has the NVIDIA
# driver and CUDA 13 toolkit, but no Java and no network): a jlink-trimmed Java runtime, the
# project's jars (runtime-cuda with its tests), the dependencies (jcuda's natives included), the
# JUnit console launcher, and the scripts that run there. Build here, copy the tarball there.
#
#   scripts/gpu-pack.sh [out-dir]      -> out-dir/kiln-gpu.tar.gz (default: target/gpu-pack)
#
# Fails if the tarball exceeds 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-$ROOT/target/gpu-pack}
PACK=$OUT/kiln-gpu
JUNIT_CONSOLE=1.11.4   # the junit-platform version of the root pom's junit-bom 5.11.4
LIMIT=$((64 * 1024 * 1024))

# A JDK >= 21 with jlink (the root pom's toolchain finds one for Maven; find one for jlink here).
JDK=${KILN_JDK:-}
if [[ -z "$JDK" ]]; then
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$d" && -x "$d/bin/jlink" ]] || continue
    v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')
    if [[ "${v%%.*}" -ge 21 ]]; then JDK=$d; fi
  done
fi
[[ -n "$JDK" ]] || { echo "gpu-pack: no JDK >= 21 with jlink found (set KILN_JDK)" >&2; exit 1; }

echo "gpu-pack: building with Maven (tests are compiled, not run)"
# MKL (150 MB) stays out of the 64 MiB pack: the CPU side there falls back to OpenBLAS.
rm -rf "$OUT/deps"
JAVA_HOME="$JDK" mvn -q -B -pl runtime-cuda -am package dependency:copy-dependencies -DskipTests -DincludeScope=test \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian -DexcludeArtifactIds=mkl \
  -DoutputDirectory="$OUT/deps"
mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_CONSOLE \
  -DoutputDirectory="$OUT/junit" >/dev/null

rm -rf "$PACK"
mkdir -p "$PACK/lib" "$PACK/scripts"
# Each reactor module copied its dependencies (the project's own jars among them) into deps/.
cp "$OUT"/deps/*.jar "$PACK/lib/"
cp runtime-cuda/target/runtime-cuda-*-SNAPSHOT.jar "$PACK/lib/"
# The CUDA test suite: runtime-cuda's test classes as a jar.
"$JDK/bin/jar" --create --file "$PACK/lib/runtime-cuda-tests.jar" -C runtime-cuda/target/test-classes .
cp "$OUT"/junit/junit-platform-console-standalone-*.jar "$PACK/lib/"
# jcuda's natives carry the 24 MB PTX-compiler JNI library Kiln does not use: drop it.
for j in "$PACK"/lib/jcuda-natives-*.jar; do
  zip -q -d "$j" 'lib/libJNvPTXCompiler*' || true
done

# A trimmed runtime: the modules the jars need (jdeps), java.logging for System.Logger, jdk.unsupported
# for javacpp, jdk.zipfs for JUnit's scan of the tests jar.
MODS=$("$JDK/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 21 \
  --class-path "$PACK/lib/*" "$PACK"/lib/runtime-cuda-0*.jar "$PACK"/lib/runtime-cuda-tests.jar 2>/dev/null || true)
MODS=${MODS:-java.base}
MODS="$MODS,java.logging,jdk.unsupported,jdk.zipfs"
echo "gpu-pack: jlink modules $MODS"
"$JDK/bin/jlink" --add-modules "$MODS" --strip-debug --no-header-files --no-man-pages \
  --compress=zip-9 --output "$PACK/jre"

cp scripts/gpu-check.sh scripts/gpu_torch_bench.py "$PACK/scripts/"
git -C "$ROOT" rev-parse HEAD > "$PACK/COMMIT" 2>/dev/null || echo unknown > "$PACK/COMMIT"

tar -C "$OUT" -czf "$OUT/kiln-gpu.tar.gz" kiln-gpu
SIZE=$(stat -c %s "$OUT/kiln-gpu.tar.gz")
echo "gpu-pack: $OUT/kiln-gpu.tar.gz is $SIZE bytes ($(awk "BEGIN{printf \"%.1f\", $SIZE/1048576}") MiB; unpacked $(du -sm "$PACK" | cut -f1) MiB)"
if (( SIZE > LIMIT )); then
  echo "gpu-pack: over the 64 MiB limit" >&2
  exit 1
fi
