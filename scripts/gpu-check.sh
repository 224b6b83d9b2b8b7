#!/usr/bin/env bash
# Runs Kiln's CUDA test suite and GPU benchmarks on a GPU machine from the folder gpu-pack.sh made
# (no Java or network needed there: the pack carries a trimmed runtime and every jar).
#
#   tar xzf kiln-gpu.tar.gz && kiln-gpu/scripts/gpu-check.sh [results-dir]
#
# Results (default kiln-gpu/results/): probe.txt (what loads), tests.txt and junit/ (JUnit XML),
# bench.txt (Kiln's and PyTorch's tables), nvidia-smi.txt. Exit status: the test suite's.
#
# How it finds its way on a CUDA 13 machine with jcuda 12.6 (see docs/cuda.md):
#  - driver API: jcuda needs libcuda.so.1, which every recent driver has;
#  - kernels: generated CUDA C compiled to PTX with the machine's nvcc (NVRTC 12 is not there), cached
#    by content hash under results/ptx-cache;
#  - cuBLAS: jcublas wants libcublas.so.12; a private folder links that name to CUDA 13's
#    libcublas.so.13. A probe in its own process checks a product through it; if it fails (or
#    crashes), runs use the generated GEMM kernel instead (-Dkiln.cuda.noCublas=true).
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
RES=${1:-$HERE/results}
mkdir -p "$RES"
RES=$(cd "$RES" && pwd)
JAVA="$HERE/jre/bin/java"
CP="$HERE/lib/*"
JOPTS=(-Xss4m -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED)
export KILN_CUDA_CACHE="$RES/ptx-cache"

if [[ -z "${KILN_NVCC:-}" ]]; then
  for c in "$(command -v nvcc 2>/dev/null)" /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    if [[ -n "$c" && -x "$c" ]]; then export KILN_NVCC=$c; break; fi
  done
fi
echo "gpu-check: nvcc ${KILN_NVCC:-not found}"

# libcublas.so.12 / libcublasLt.so.12 -> whatever major version is installed, in a private folder.
SONAMES="$RES/sonames"
mkdir -p "$SONAMES"
find_lib() {  # newest libNAME.so.N on this machine
  { ldconfig -p 2>/dev/null | awk -v n="$1" '$1 ~ "^"n"\\.so\\.[0-9]+$" {print $NF}';
    ls /usr/local/cuda/lib64/"$1".so.* /usr/local/cuda/targets/x86_64-linux/lib/"$1".so.* 2>/dev/null; } |
    grep -E "\.so\.[0-9]+$" | sort -V | tail -1
}
for lib in libcublas libcublasLt; do
  real=$(find_lib "$lib")
  if [[ -n "$real" && ! -e "$SONAMES/$lib.so.12" ]]; then ln -sf "$real" "$SONAMES/$lib.so.12"; fi
done
# The CUDA runtime's own libraries sit beside libcublas; the driver (libcuda.so.1) is system-wide.
CUDA_LIBDIR=$(dirname "$(find_lib libcublas)" 2>/dev/null || true)

{ nvidia-smi || echo "nvidia-smi failed"; } > "$RES/nvidia-smi.txt" 2>&1
echo "gpu-check: probing (cuBLAS through the soname links)"
LD_LIBRARY_PATH="$SONAMES:${CUDA_LIBDIR:-}:${LD_LIBRARY_PATH:-}" "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.kiln.cuda.CudaProbe \
  > "$RES/probe.txt" 2>&1
PROBE=$?
if [[ $PROBE -eq 0 ]] && grep -q "^cublas: ok" "$RES/probe.txt"; then
  export LD_LIBRARY_PATH="$SONAMES:${CUDA_LIBDIR:-}:${LD_LIBRARY_PATH:-}"
  echo "gpu-check: cuBLAS ok through $SONAMES" | tee -a "$RES/probe.txt"
else
  JOPTS+=(-Dkiln.cuda.noCublas=true)
  echo "gpu-check: probe exit $PROBE; again without cuBLAS (generated GEMM kernel)" | tee -a "$RES/probe.txt"
  "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.kiln.cuda.CudaProbe >> "$RES/probe.txt" 2>&1
fi
cat "$RES/probe.txt"

echo "gpu-check: CUDA test suite"
# Everything on the JVM's class path (its launcher expands lib/*); JUnit scans the tests jar.
"$JAVA" "${JOPTS[@]}" -cp "$CP" org.junit.platform.console.ConsoleLauncher execute \
  --scan-class-path "$HERE/lib/runtime-cuda-tests.jar" \
  --reports-dir "$RES/junit" --details=tree --disable-banner --disable-ansi-colors > "$RES/tests.txt" 2>&1
TESTS=$?
tail -25 "$RES/tests.txt"

echo "gpu-check: benchmarks"
: > "$RES/bench.txt"
"$JAVA" "${JOPTS[@]}" -Xmx8g -cp "$CP" dev.kiln.cuda.GpuBench "$RES/bench.txt" || echo "GpuBench failed: $?" >> "$RES/bench.txt"
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  python3 "$HERE/scripts/gpu_torch_bench.py" "$RES/bench.txt" || echo "torch bench failed: $?" >> "$RES/bench.txt"
else
  echo "# PyTorch with CUDA not available: no side-by-side" >> "$RES/bench.txt"
fi
cat "$RES/bench.txt"
exit $TESTS
