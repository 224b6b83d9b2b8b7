package dev.kiln.cuda;

import dev.kiln.graph.DType;
import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

/**
 * Row-major matrix products on the context's stream through cuBLAS, found in this order:
 * <ol>
 *   <li>on JDK 22+, libcublas (13 or 12) called directly through java.lang.foreign ({@link CublasFfm});
 *   <li>jcublas, whose natives need {@code libcublas.so.12} (a CUDA 12 install; the path on JDK 21);
 *   <li>none: the executor then launches the generated tiled kernel ({@link CudaCodegen#gemm}).
 * </ol>
 * {@code -Dkiln.cuda.noCublas=true} forces the generated kernel; {@code -Dkiln.cuda.noFfm=true} skips
 * the first way.
 */
final class Gemm implements AutoCloseable {
  private final CublasFfm ffm;
  private final cublasHandle handle;
  private final String description;

  private Gemm(CublasFfm ffm, cublasHandle handle, String description) {
    this.ffm = ffm;
    this.handle = handle;
    this.description = description;
  }

  static Gemm open(CudaContext ctx) {
    if (CudaProperties.SYSTEM.noCublas()) {
      return new Gemm(null, null, "generated GEMM kernel (-Dkiln.cuda.noCublas=true)");
    }
    List<String> whyNot = new ArrayList<>();
    if (!CudaProperties.SYSTEM.noFfm()) {
      CublasFfm f = CublasFfm.open(ctx, whyNot);
      if (f != null) {
        return new Gemm(f, null, "cuBLAS " + f.version() + " via java.lang.foreign (" + f.library() + ")");
      }
    }
    try {
      JCublas2.setExceptionsEnabled(false);
      cublasHandle h = new cublasHandle();
      int r = JCublas2.cublasCreate(h);
      if (r == 0) {
        if (JCublas2.cublasSetStream(h, new cudaStream_t(ctx.stream)) == 0) {
          return new Gemm(null, h, "cuBLAS via jcublas");
        }
        JCublas2.cublasDestroy(h);
      }
      whyNot.add("jcublas: cublasCreate/cublasSetStream failed (" + r + ")");
    } catch (Throwable e) { // UnsatisfiedLinkError without libcublas.so.12
      whyNot.add("jcublas: " + e.getClass().getSimpleName() + " (needs libcublas.so.12)");
    }
    return new Gemm(null, null, "generated GEMM kernel (no cuBLAS: " + String.join("; ", whyNot) + ")");
  }

  boolean hasCublas() {
    return ffm != null || handle != null;
  }

  /** How products run, e.g. "cuBLAS 130100 via java.lang.foreign (libcublas.so.13)". */
  String description() {
    return description;
  }

  /**
   * A step computing C[m,n] = op(A) op(B), all row-major. cuBLAS is column-major: a row-major matrix
   * is its transpose in column-major, so C^T = op(B)^T op(A)^T is computed with the operands swapped.
   */
  Runnable gemm(DType d, boolean ta, boolean tb, int m, int n, int k, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c) {
    return gemm(d, ta, tb, m, n, k, a, b, c, 1, 0);
  }

  /** As {@link #gemm(DType, boolean, boolean, int, int, int, CUdeviceptr, CUdeviceptr, CUdeviceptr)}, C = alpha op(A) op(B) + beta C. */
  Runnable gemm(DType d, boolean ta, boolean tb, int m, int n, int k, CUdeviceptr a, CUdeviceptr b, CUdeviceptr c,
      double alpha, double beta) {
    if (ffm != null) {
      return ffm.gemm(d, ta, tb, m, n, k, a, b, c, alpha, beta);
    }
    // alpha and beta in host memory (cuBLAS's default pointer mode).
    Pointer alphaP = d == DType.FLOAT32 ? Pointer.to(new float[] {(float) alpha}) : Pointer.to(new double[] {alpha});
    Pointer betaP = d == DType.FLOAT32 ? Pointer.to(new float[] {(float) beta}) : Pointer.to(new double[] {beta});
    int opA = ta ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int opB = tb ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int lda = ta ? m : k;
    int ldb = tb ? k : n;
    return () -> {
      int r;
      if (d == DType.FLOAT32) {
        r = JCublas2.cublasSgemm(handle, opB, opA, n, m, k, alphaP, b, ldb, a, lda, betaP, c, n);
      } else {
        r = JCublas2.cublasDgemm(handle, opB, opA, n, m, k, alphaP, b, ldb, a, lda, betaP, c, n);
      }
      if (r != 0) {
        throw new IllegalStateException("cuBLAS gemm failed: " + jcuda.jcublas.cublasStatus.stringFor(r));
      }
    };
  }

  @Override
  public void close() {
    if (ffm != null) {
      ffm.close();
    }
    if (handle != null) {
      JCublas2.cublasDestroy(handle);
    }
  }
}
