package dev.kiln.runtime;

/** For the benchmarks' notes: which BLAS library (and OpenBLAS kernels) the runtime selected. */
public final class BlasInfo {
  private BlasInfo() {}

  /** e.g. "MKL", or "OpenBLAS SkylakeX (OPENBLAS_CORETYPE=SKYLAKEX set by Kiln)". */
  public static String describe() {
    return Blas.describe() + (Blas.USED == Blas.Library.MKL ? ""
        : Blas.FORCED_CORETYPE.map(c -> " (OPENBLAS_CORETYPE=" + c + " set by Kiln)").orElse(""));
  }
}
