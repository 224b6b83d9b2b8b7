package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Blas;
import dev.kiln.runtime.exec.RuntimeProperties;

import dev.kiln.graph.DType;

/**
 * MatMul of rank-2 operands with transpose_a / transpose_b. Floats go to OpenBLAS ({@link Blas}),
 * except products so small that the native call costs more than a Java loop, and float32 products of
 * few rows, which a Vector API loop runs without packing b ({@link SkinnyGemm}); integers use the Java
 * loop at every size.
 */
public final class MatMulKernels {
  private MatMulKernels() {}

  /**
   * Products with at most this many multiply-adds run as a Java loop ({@code -Dkiln.matmul.javaBelow}).
   * A zero-copy sgemm call costs some 20 ns before it multiplies anything, which the loop beats only
   * for the very smallest products (2^3 multiply-adds); a copying call costs about 100 ns more, so
   * the loop pays up to 64 multiply-adds there.
   */
  static long smallProduct() {
    return RuntimeProperties.SYSTEM.matmulJavaBelow().orElse(Blas.ZERO_COPY ? 8 : 64);
  }

  /** a^T b products with at most this many result columns run transposed on MKL (Product.narrowTransposed). */
  static final int NARROW_GRADIENT_COLUMNS = 16;
  /** a b products with at most this many result columns may run transposed on MKL (Product.narrowTransposed). */
  static final int NARROW_HEAD_COLUMNS = 10;
  /** ... and at most this many rows. */
  static final int NARROW_HEAD_MAX_ROWS = 256;
  /** ... and an inner dimension at least this long. */
  static final int NARROW_HEAD_MIN_INNER = 768;

  /** The sizes of op(a) [m,k] times op(b) [k,n], checked. */
  private record Product(boolean ta, boolean tb, int m, int k, int n) {
    static Product of(KernelSpec spec) {
      boolean ta = spec.op().attrs().getBool("transpose_a", false);
      boolean tb = spec.op().attrs().getBool("transpose_b", false);
      int[] a = KernelSupport.inDims(spec, 0);
      int[] b = KernelSupport.inDims(spec, 1);
      int k = ta ? a[0] : a[1];
      int kb = tb ? b[1] : b[0];
      if (k != kb) {
        throw KernelSupport.error(spec, "inner dimensions differ: %s%s x %s%s", spec.inputs().get(0).shape(),
            ta ? "^T" : "", spec.inputs().get(1).shape(), tb ? "^T" : "");
      }
      return new Product(ta, tb, ta ? a[1] : a[0], k, tb ? b[0] : b[1]);
    }

    /**
     * Products with a narrow result that MKL runs faster transposed, as op(b)^T op(a)^T [n,m] (then
     * written back transposed): a^T b with at most {@link #NARROW_GRADIENT_COLUMNS} result columns
     * and m >= 4n (a weight gradient with few outputs: 1.4-3.4x over m 64-2048, k 100-1024), and a b
     * with at most {@link #NARROW_HEAD_COLUMNS} columns, at most {@link #NARROW_HEAD_MAX_ROWS} rows and
     * a long inner dimension, from {@link #NARROW_HEAD_MIN_INNER} (a classifier head: 1.6-2.3x; MKL
     * seems to keep the untransposed product on one thread there, and from 384 rows or at k = 512 the
     * transposed product is slower). OpenBLAS runs both ways alike.
     */
    boolean narrowTransposed() {
      if (Blas.USED != Blas.Library.MKL || small()) {
        return false;
      }
      boolean narrowGradient = ta && !tb && n <= NARROW_GRADIENT_COLUMNS && m >= 4 * n;
      boolean narrowHead = !ta && !tb && n <= NARROW_HEAD_COLUMNS && m <= NARROW_HEAD_MAX_ROWS && m >= 4 * n
          && k >= NARROW_HEAD_MIN_INNER;
      return narrowGradient || narrowHead;
    }

    boolean small() {
      return !BlasAvailability.LOADED || (long) m * n * k <= smallProduct();
    }
  }

  /** MatMul: {@link #blasFactory}'s kernel, or oneDNN's with a constant second operand packed once ({@link DnnlMatMul}). */
  public static KernelFactory factory() {
    return spec -> {
      Kernel blas = blasFactory().create(spec);
      return DnnlMatMul.create(spec, false, false, blas).orElse(blas);
    };
  }

  /** MatMul on BLAS (or a Java loop for small and integer products, {@link SkinnyGemm} for few rows). */
  public static KernelFactory blasFactory() {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      Product p = Product.of(spec);
      boolean ta = p.ta();
      boolean tb = p.tb();
      int m = p.m();
      int k = p.k();
      int n = p.n();
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
      boolean small = p.small();
      if (d == DType.FLOAT32 && p.narrowTransposed()) {
        ScratchPool<float[]> t = transposedScratch(p);
        return frame -> sgemmNarrowTransposed(p, 1f, (float[]) frame[sa], (float[]) frame[sb], 0f, (float[]) frame[sc], t);
      }
      if (d == DType.FLOAT32 && !small && skinny(ta, tb, m, n, k)) {
        return frame -> SkinnyGemm.multiply(m, n, k, (float[]) frame[sa], (float[]) frame[sb], (float[]) frame[sc], false);
      }
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
        default -> throw NarrowTypes.notLowered(d);
      };
    };
  }

  /**
   * Gemm: out = alpha * op(a) op(b) + beta * c in one BLAS call. The plan may give out c's array
   * ({@link Kernels#allowsInPlace} input 2: an update written into a variable's storage); otherwise c
   * is copied to out first. As in BLAS, c is not read when beta is 0. Floats only (graph-ir checks).
   */
  static KernelFactory gemm() {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      Product p = Product.of(spec);
      double alpha = spec.op().attrs().find("alpha").map(v -> (Double) v).orElse(1.0);
      double beta = spec.op().attrs().find("beta").map(v -> (Double) v).orElse(1.0);
      int sa = spec.inputSlots()[0];
      int sb = spec.inputSlots()[1];
      int sc = spec.inputSlots()[2];
      int so = spec.outputSlots()[0];
      int size = p.m() * p.n();
      if (size == 0) {
        return frame -> { };
      }
      boolean loop = p.k() == 0 || p.small();
      boolean transposed = !loop && p.narrowTransposed();
      boolean skinny = !loop && !transposed && alpha == 1 && (beta == 0 || beta == 1)
          && skinny(p.ta(), p.tb(), p.m(), p.n(), p.k());
      ScratchPool<float[]> t = transposed ? transposedScratch(p) : null;
      return switch (d) {
        case FLOAT32 -> {
          float al = (float) alpha;
          float be = (float) beta;
          yield frame -> {
            float[] o = (float[]) frame[so];
            if (be != 0 && frame[sc] != o) {
              System.arraycopy(frame[sc], 0, o, 0, size);
            }
            if (loop) {
              f32(p, al, (float[]) frame[sa], (float[]) frame[sb], be, o);
            } else if (skinny) {
              SkinnyGemm.multiply(p.m(), p.n(), p.k(), (float[]) frame[sa], (float[]) frame[sb], o, be != 0);
            } else if (transposed) {
              sgemmNarrowTransposed(p, al, (float[]) frame[sa], (float[]) frame[sb], be, o, t);
            } else {
              Blas.sgemm(p.ta(), p.tb(), p.m(), p.n(), p.k(), al, (float[]) frame[sa], (float[]) frame[sb], be, o);
            }
          };
        }
        case FLOAT64 -> frame -> {
          double[] o = (double[]) frame[so];
          if (beta != 0 && frame[sc] != o) {
            System.arraycopy(frame[sc], 0, o, 0, size);
          }
          if (loop) {
            f64(p, alpha, (double[]) frame[sa], (double[]) frame[sb], beta, o);
          } else {
            Blas.dgemm(p.ta(), p.tb(), p.m(), p.n(), p.k(), alpha, (double[]) frame[sa], (double[]) frame[sb], beta, o);
          }
        };
        default -> throw KernelSupport.unsupported(spec, d);
      };
    };
  }

  /** Whether a float product goes to {@link SkinnyGemm} rather than BLAS (few rows; the Vector API present). */
  static boolean skinny(boolean ta, boolean tb, int m, int n, int k) {
    return VectorSupport.AVAILABLE && SkinnyGemm.applies(ta, tb, m, n, k);
  }

  /** The kernel's buffers for the transposed product of {@link #sgemmNarrowTransposed} (one per concurrent run). */
  private static ScratchPool<float[]> transposedScratch(Product p) {
    return new ScratchPool<>(() -> new float[p.m() * p.n()]);
  }

  /**
   * o[m,n] = alpha * op(a) op(b) + beta * o, as t = alpha * op(b)^T op(a)^T [n,m] through BLAS (t taken
   * from {@code scratch}), then o = t^T + beta * o (o unread when beta is 0).
   */
  private static void sgemmNarrowTransposed(Product p, float alpha, float[] a, float[] b, float beta, float[] o,
      ScratchPool<float[]> scratch) {
    int m = p.m();
    int n = p.n();
    float[] t = scratch.take();
    try {
      Blas.sgemm(!p.tb(), !p.ta(), n, m, p.k(), alpha, b, a, 0f, t);
      for (int i = 0; i < m; i++) {
        int row = i * n;
        for (int j = 0; j < n; j++) {
          float v = t[j * m + i];
          o[row + j] = beta == 0 ? v : v + beta * o[row + j];
        }
      }
    } finally {
      scratch.give(t);
    }
  }

  private static void f32(Product p, float alpha, float[] a, float[] b, float beta, float[] o) {
    int m = p.m();
    int k = p.k();
    int n = p.n();
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0;
        for (int q = 0; q < k; q++) {
          s += (p.ta() ? a[q * m + i] : a[i * k + q]) * (p.tb() ? b[j * k + q] : b[q * n + j]);
        }
        o[i * n + j] = beta == 0 ? alpha * s : alpha * s + beta * o[i * n + j];
      }
    }
  }

  private static void f64(Product p, double alpha, double[] a, double[] b, double beta, double[] o) {
    int m = p.m();
    int k = p.k();
    int n = p.n();
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int q = 0; q < k; q++) {
          s += (p.ta() ? a[q * m + i] : a[i * k + q]) * (p.tb() ? b[j * k + q] : b[q * n + j]);
        }
        o[i * n + j] = beta == 0 ? alpha * s : alpha * s + beta * o[i * n + j];
      }
    }
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

  public static void f32(boolean ta, boolean tb, int m, int n, int k, float[] a, float[] b, float[] c) {
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

  public static void f64(boolean ta, boolean tb, int m, int n, int k, double[] a, double[] b, double[] c) {
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
