package dev.kiln.cuda;

import dev.kiln.graph.DType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

/**
 * Row-major matrix products on the context's stream: cuBLAS when jcublas's native library loads
 * (it needs {@code libcublas.so.12}: a CUDA 12 install, or the soname links gpu-check.sh makes to
 * CUDA 13's libcublas), else empty — the executor then launches the generated tiled kernel
 * ({@link CudaCodegen#gemm}). {@code -Dkiln.cuda.noCublas=true} forces the fallback.
 */
final class Gemm implements AutoCloseable {
  // alpha = 1, beta = 0 in host memory (cuBLAS's default pointer mode).
  private static final Pointer ONE_F = Pointer.to(new float[] {1f});
  private static final Pointer ZERO_F = Pointer.to(new float[] {0f});
  private static final Pointer ONE_D = Pointer.to(new double[] {1});
  private static final Pointer ZERO_D = Pointer.to(new double[] {0});
  private final cublasHandle handle;

  private Gemm(cublasHandle handle) {
    this.handle = handle;
  }

  static Gemm open(CudaContext ctx) {
    if (Boolean.getBoolean("kiln.cuda.noCublas")) {
      return new Gemm(null);
    }
    try {
      JCublas2.setExceptionsEnabled(false);
      cublasHandle h = new cublasHandle();
      if (JCublas2.cublasCreate(h) != 0) {
        return new Gemm(null);
      }
      if (JCublas2.cublasSetStream(h, new cudaStream_t(ctx.stream)) != 0) {
        JCublas2.cublasDestroy(h);
        return new Gemm(null);
      }
      return new Gemm(h);
    } catch (Throwable e) { // UnsatisfiedLinkError without libcublas.so.12
      return new Gemm(null);
    }
  }

  boolean hasCublas() {
    return handle != null;
  }

  /**
   * C[m,n] = op(A) op(B), all row-major. cuBLAS is column-major: a row-major matrix is its transpose
   * in column-major, so C^T = op(B)^T op(A)^T is computed with the operands swapped.
   */
  void gemm(DType d, boolean ta, boolean tb, int m, int n, int k, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c) {
    int opA = ta ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int opB = tb ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int lda = ta ? m : k;
    int ldb = tb ? k : n;
    int r;
    if (d == DType.FLOAT32) {
      r = JCublas2.cublasSgemm(handle, opB, opA, n, m, k, ONE_F, b, ldb, a, lda, ZERO_F, c, n);
    } else {
      r = JCublas2.cublasDgemm(handle, opB, opA, n, m, k, ONE_D, b, ldb, a, lda, ZERO_D, c, n);
    }
    if (r != 0) {
      throw new IllegalStateException("cuBLAS gemm failed: " + jcuda.jcublas.cublasStatus.stringFor(r));
    }
  }

  @Override
  public void close() {
    if (handle != null) {
      JCublas2.cublasDestroy(handle);
    }
  }
}
