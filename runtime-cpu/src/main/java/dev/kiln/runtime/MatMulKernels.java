package dev.kiln.runtime;

import dev.kiln.graph.DType;

/**
 * MatMul of rank-2 operands with transpose_a / transpose_b. Floats go to OpenBLAS ({@link Blas}),
 * except products so small that the native call costs more than a Java loop; integers use the Java
 * loop at every size.
 */
final class MatMulKernels {
  private MatMulKernels() {}

  /**
   * Products with at most this many multiply-adds run as a Java loop. Measured here (ns per call,
   * zero-copy sgemm / JavaCPP copying sgemm / Java loop): 2^3: 21 / 108 / 18, 4^3: 26 / 117 / 77,
   * 8^3: 43 / 162 / 515, 16^3: 92 / 293 / 3176. So the Java loop only pays for the very smallest
   * products, and a little longer when the BLAS call has to copy.
   */
  static long smallProduct() {
    return Long.getLong("kiln.matmul.javaBelow", Blas.ZERO_COPY ? 8 : 64);
  }

  static KernelFactory factory() {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      boolean ta = spec.op().attrs().getBool("transpose_a", false);
      boolean tb = spec.op().attrs().getBool("transpose_b", false);
      int[] a = KernelSupport.inDims(spec, 0);
      int[] b = KernelSupport.inDims(spec, 1);
      int m = ta ? a[1] : a[0];
      int k = ta ? a[0] : a[1];
      int n = tb ? b[0] : b[1];
      int kb = tb ? b[1] : b[0];
      if (k != kb) {
        throw KernelSupport.error(spec, "inner dimensions differ: %s%s x %s%s", spec.inputs().get(0).shape(),
            ta ? "^T" : "", spec.inputs().get(1).shape(), tb ? "^T" : "");
      }
      int sa = spec.inputSlots()[0];
      int sb = spec.inputSlots()[1];
      int sc = spec.outputSlots()[0];
      if (m == 0 || n == 0) {
        return frame -> { };
      }
      if (k == 0) {
        return frame -> FillKernels.fill(d, frame[sc], m * n, 0);
      }
      // Loads OpenBLAS when a plan is compiled rather than in its first run.
      boolean small = !BlasAvailability.LOADED || (long) m * n * k <= smallProduct();
      return switch (d) {
        case FLOAT32 -> small
            ? frame -> f32(ta, tb, m, n, k, (float[]) frame[sa], (float[]) frame[sb], (float[]) frame[sc])
            : frame -> Blas.sgemm(ta, tb, m, n, k, (float[]) frame[sa], (float[]) frame[sb], (float[]) frame[sc]);
        case FLOAT64 -> small
            ? frame -> f64(ta, tb, m, n, k, (double[]) frame[sa], (double[]) frame[sb], (double[]) frame[sc])
            : frame -> Blas.dgemm(ta, tb, m, n, k, (double[]) frame[sa], (double[]) frame[sb], (double[]) frame[sc]);
        case INT32 -> frame -> i32(ta, tb, m, n, k, (int[]) frame[sa], (int[]) frame[sb], (int[]) frame[sc]);
        case INT64 -> frame -> i64(ta, tb, m, n, k, (long[]) frame[sa], (long[]) frame[sb], (long[]) frame[sc]);
        case BOOL -> throw KernelSupport.unsupported(spec, d);
      };
    };
  }

  /** Whether OpenBLAS loaded; without it (an unsupported platform) MatMul falls back to Java loops. */
  private static final class BlasAvailability {
    static final boolean LOADED = load();

    private static boolean load() {
      try {
        return Blas.LIBRARY != null;
      } catch (LinkageError e) {
        java.util.logging.Logger.getLogger(MatMulKernels.class.getName()).log(java.util.logging.Level.WARNING,
            "OpenBLAS did not load; MatMul runs as plain Java loops", e);
        return false;
      }
    }
  }

  // Each loop runs row by row of c: with b untransposed, c[i,:] += a(i,p) * b[p,:] (vectorizes along
  // the row); with b transposed, c[i,j] is a dot product of a row of a and a row of b.

  static void f32(boolean ta, boolean tb, int m, int n, int k, float[] a, float[] b, float[] c) {
    for (int i = 0; i < m; i++) {
      int ci = i * n;
      if (!tb) {
        for (int j = 0; j < n; j++) c[ci + j] = 0;
        for (int p = 0; p < k; p++) {
          float aip = ta ? a[p * m + i] : a[i * k + p];
          int bp = p * n;
          for (int j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
        }
      } else {
        for (int j = 0; j < n; j++) {
          float s = 0;
          int bj = j * k;
          for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * b[bj + p];
          c[ci + j] = s;
        }
      }
    }
  }

  static void f64(boolean ta, boolean tb, int m, int n, int k, double[] a, double[] b, double[] c) {
    for (int i = 0; i < m; i++) {
      int ci = i * n;
      if (!tb) {
        for (int j = 0; j < n; j++) c[ci + j] = 0;
        for (int p = 0; p < k; p++) {
          double aip = ta ? a[p * m + i] : a[i * k + p];
          int bp = p * n;
          for (int j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
        }
      } else {
        for (int j = 0; j < n; j++) {
          double s = 0;
          int bj = j * k;
          for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * b[bj + p];
          c[ci + j] = s;
        }
      }
    }
  }

  static void i32(boolean ta, boolean tb, int m, int n, int k, int[] a, int[] b, int[] c) {
    for (int i = 0; i < m; i++) {
      int ci = i * n;
      if (!tb) {
        for (int j = 0; j < n; j++) c[ci + j] = 0;
        for (int p = 0; p < k; p++) {
          int aip = ta ? a[p * m + i] : a[i * k + p];
          int bp = p * n;
          for (int j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
        }
      } else {
        for (int j = 0; j < n; j++) {
          int s = 0;
          int bj = j * k;
          for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * b[bj + p];
          c[ci + j] = s;
        }
      }
    }
  }

  static void i64(boolean ta, boolean tb, int m, int n, int k, long[] a, long[] b, long[] c) {
    for (int i = 0; i < m; i++) {
      int ci = i * n;
      if (!tb) {
        for (int j = 0; j < n; j++) c[ci + j] = 0;
        for (int p = 0; p < k; p++) {
          long aip = ta ? a[p * m + i] : a[i * k + p];
          int bp = p * n;
          for (int j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
        }
      } else {
        for (int j = 0; j < n; j++) {
          long s = 0;
          int bj = j * k;
          for (int p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * b[bj + p];
          c[ci + j] = s;
        }
      }
    }
  }
}
