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
#  - cuBLAS: called directly through java.lang.foreign (the pack's runtime is JDK 25), whatever its
#    major version; this script finds libcublas.so.N (CUDA install, ldconfig, or a Python wheel such as
#    PyTorch's nvidia-cublas) and puts its folder on LD_LIBRARY_PATH. A probe in its own process checks
#    a product through it; if that fails, runs use the generated GEMM kernel (-Dkiln.cuda.noCublas=true).
#
# KILN_GPU_STEPS (default "probe tests bench torch") picks and orders the steps.
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

STEPS=${KILN_GPU_STEPS:-probe tests bench torch}
find_cublas() {  # newest libcublas.so.N: ldconfig, the CUDA install, then Python wheels
  { ldconfig -p 2>/dev/null | awk '$1 ~ /^libcublas\.so\.[0-9]+$/ {print $NF}';
    ls /usr/local/cuda/lib64/libcublas.so.* /usr/local/cuda/targets/*/lib/libcublas.so.* /usr/local/cuda-*/lib64/libcublas.so.* 2>/dev/null;
    find /opt /usr/lib /usr/local/lib -path '*nvidia*' -name 'libcublas.so.*' 2>/dev/null; } |
    grep -E "libcublas\.so\.[0-9]+$" | head -1
}
CUBLAS=$(find_cublas)
if [[ -n "$CUBLAS" ]]; then
  export LD_LIBRARY_PATH="$(dirname "$CUBLAS"):${LD_LIBRARY_PATH:-}"
  JOPTS+=("-Dkiln.cuda.cublas=$CUBLAS")
fi

{ nvidia-smi || echo "nvidia-smi failed"; } > "$RES/nvidia-smi.txt" 2>&1
if [[ " $STEPS " == *" probe "* ]]; then
  echo "gpu-check: probing (libcublas: ${CUBLAS:-none found})"
  echo "libcublas: ${CUBLAS:-none found}" > "$RES/probe.txt"
  "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.kiln.cuda.CudaProbe >> "$RES/probe.txt" 2>&1
  PROBE=$?
  if [[ $PROBE -eq 0 ]] && grep -q "^cublas: ok" "$RES/probe.txt"; then
    echo "gpu-check: cuBLAS ok" | tee -a "$RES/probe.txt"
  else
    JOPTS+=(-Dkiln.cuda.noCublas=true)
    echo "gpu-check: probe exit $PROBE; again without cuBLAS (generated GEMM kernel)" | tee -a "$RES/probe.txt"
    "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.kiln.cuda.CudaProbe >> "$RES/probe.txt" 2>&1
  fi
  cat "$RES/probe.txt"
fi

TESTS=0
for step in $STEPS; do
  case $step in
    tests)
      echo "gpu-check: CUDA test suite"
      # Everything on the JVM's class path (its launcher expands lib/*); JUnit scans the tests jar.
      "$JAVA" "${JOPTS[@]}" -cp "$CP" org.junit.platform.console.ConsoleLauncher execute \
        --scan-class-path "$HERE/lib/runtime-cuda-tests.jar" \
        --reports-dir "$RES/junit" --details=tree --disable-banner --disable-ansi-colors > "$RES/tests.txt" 2>&1
      TESTS=$?
      tail -25 "$RES/tests.txt"
      ;;
    bench)
      echo "gpu-check: Kiln benchmarks"
      "$JAVA" "${JOPTS[@]}" -Xmx8g -cp "$CP" dev.kiln.cuda.GpuBench "$RES/bench.txt" || echo "GpuBench failed: $?" >> "$RES/bench.txt"
      ;;
    torch)
      echo "gpu-check: PyTorch benchmarks"
      if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
        python3 "$HERE/scripts/gpu_torch_bench.py" "$RES/bench.txt" || echo "torch bench failed: $?" >> "$RES/bench.txt"
      else
        echo "# PyTorch with CUDA not available: no side-by-side" >> "$RES/bench.txt"
      fi
      ;;
  esac
done
[[ -f "$RES/bench.txt" ]] && cat "$RES/bench.txt"
exit $TESTS
