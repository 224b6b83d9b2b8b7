package dev.kiln.runtime;

import dev.kiln.runtime.blas.Blas;

import java.util.Optional;

/** For the benchmarks' notes: which BLAS library (and OpenBLAS kernels) the runtime selected. */
public final class BlasInfo {
  private BlasInfo() {}

  /**
   * e.g. "MKL", "OpenBLAS SkylakeX (OPENBLAS_CORETYPE=SKYLAKEX set by Kiln)" or "OpenBLAS Haswell
   * (OPENBLAS_CORETYPE=HASWELL from the environment)".
   */
  public static String describe() {
    if (Blas.USED == Blas.Library.MKL) {
      return Blas.describe();
    }
    Optional<String> how = Blas.FORCED_CORETYPE.map(c -> " (" + Blas.CORETYPE + "=" + c + " set by Kiln)")
        .or(() -> Optional.ofNullable(System.getenv(Blas.CORETYPE))
            .map(c -> " (" + Blas.CORETYPE + "=" + c + " from the environment)"));
    return Blas.describe() + how.orElse("");
  }
}
