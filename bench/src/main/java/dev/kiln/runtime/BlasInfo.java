package dev.kiln.runtime;

/** For the benchmarks' notes: which OpenBLAS kernels the runtime's BLAS set-up selected. */
public final class BlasInfo {
  private BlasInfo() {}

  /** e.g. "SkylakeX (OPENBLAS_CORETYPE=SKYLAKEX set by Kiln)". */
  public static String describe() {
    return Blas.coreName() + Blas.FORCED_CORETYPE.map(c -> " (OPENBLAS_CORETYPE=" + c + " set by Kiln)").orElse("");
  }
}
