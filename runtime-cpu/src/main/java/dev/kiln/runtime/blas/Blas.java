package dev.kiln.runtime.blas;

import dev.kiln.runtime.kernels.Parallel;

import dev.kiln.runtime.exec.RuntimeProperties;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * sgemm/dgemm through Intel MKL or OpenBLAS (JavaCPP presets), set up for speed:
 * <ul>
 *   <li>The library: MKL on Intel CPUs when MKL is on the class path (the optional runtime-cpu-mkl
 *       artifact), OpenBLAS otherwise ({@code -Dkiln.blas=mkl|openblas|auto}; see BlasChoice). MKL is
 *       the faster of the two on Intel CPUs, small products most of all; it is tuned for Intel's, so
 *       AMD CPUs keep OpenBLAS by default. MKL needs the critical downcalls below; without them
 *       (JDK 21) OpenBLAS is used.
 *   <li>On a CPU with AVX-512, OPENBLAS_CORETYPE=SKYLAKEX is set in the process environment before
 *       the library loads (unless the user set it), because OpenBLAS's own detection picks its AVX2
 *       kernels on some AVX-512 CPUs and runs at about half the speed. A core type the user set that
 *       is older than the CPU is kept, with a warning (OpenBlasCoreType).
 *   <li>On JDK 22+, sgemm/dgemm are called through java.lang.foreign downcalls marked critical, which
 *       pass Java heap arrays to native code without copying. The code is compiled for Java 21, so the
 *       handles are built reflectively; they are static finals of an exact type, so the JIT inlines
 *       them. On JDK 21 the calls go through JavaCPP's array overloads, which copy the operands.
 *       A critical call holds off safepoints (and so GC) while it runs, for as long as the product
 *       takes (a millisecond or more for a 1024^3 product piece); {@code -Dkiln.blas.copying=true}
 *       selects the copying calls instead.
 *   <li>One owner of the cores: OpenBLAS runs on one thread, and large products are cut into one
 *       piece per core on Kiln's pool ({@link GemmSplit}); {@code -Dkiln.blas.threads=openblas} gives
 *       the cores back to OpenBLAS's own threads.
 * </ul>
 * Matrices are row-major; {@code ta}/{@code tb} say the stored operand is the transpose.
 */
public final class Blas {
  private Blas() {}

  private static final Logger LOG = Logger.getLogger(Blas.class.getName());
  public static final String CORETYPE = OpenBlasCoreType.VARIABLE;
  private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
  private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
  private static final int TRANS = openblas_nolapack.CblasTrans;

  /** The core type this class put in the environment ("SKYLAKEX"), or empty. */
  public static final Optional<String> FORCED_CORETYPE;
  /** The library the products go to. */
  public enum Library { MKL, OPENBLAS }

  /** The library sgemm/dgemm call. */
  public static final Library USED;
  /** The native library that holds the cblas symbols' dependencies. */
  public static final String LIBRARY;
  private static final MethodHandle SGEMM;
  private static final MethodHandle DGEMM;
  /** True when sgemm/dgemm pass heap arrays to the library without copying. */
  public static final boolean ZERO_COPY;
  /**
   * With OpenBLAS's own threads ({@code -Dkiln.blas.threads=openblas}), products of fewer multiply-adds
   * (m*n*k) than this run on one OpenBLAS thread
   * ({@code -Dkiln.blas.singleThreadBelow}, 0 for never): OpenBLAS splits anything over ~256K over
   * all threads, and for a skinny product of a few million multiply-adds (256x1024x10: 2.6M) waking
   * a second thread costs more than the split saves; from 2^22 on, the split pays off.
   */
  public static final long SINGLE_THREAD_BELOW = RuntimeProperties.SYSTEM.blasSingleThreadBelow();
  /**
   * Whether Kiln owns the cores ({@code -Dkiln.blas.threads=kiln}, the default): OpenBLAS runs on one
   * thread and products of at least {@link #SPLIT_ABOVE} multiply-adds are cut into one piece per core
   * on Kiln's pool. OpenBLAS's own threads busy-wait for work after each product, taking the cores
   * that Kiln's split loops and the JIT's compiler threads need; one owner of the cores avoids that.
   */
  public static final boolean KILN_THREADS = !"openblas".equalsIgnoreCase(RuntimeProperties.SYSTEM.blasThreads());
  /** Products of at least this many multiply-adds are split over the cores when Kiln owns them (0: never). */
  public static final long SPLIT_ABOVE = RuntimeProperties.SYSTEM.blasSplitAbove();
  private static final MethodHandle SET_THREADS;
  /** openblas_get_num_threads, or null (MKL, or no downcall). */
  private static final MethodHandle GET_THREADS;
  /** OpenBLAS's own thread count at startup, restored after each single-threaded product. */
  private static final int THREADS;
  /** sgemm/dgemm taking an element offset after each array (pieces of a split product); null when not splitting. */
  /** Whether products of at least SPLIT_ABOVE multiply-adds are split over Kiln's pool. */
  private static final boolean SPLITS;
  private static final MethodHandle SGEMM_SLICED;
  private static final MethodHandle DGEMM_SLICED;
  /**
   * OpenBLAS's sgemv/dgemv (critical downcalls), or null: a one-row product goes to them, since sgemm with
   * m = 1 packs all of b first, which costs several times the product itself for a vector times a weight matrix.
   */
  private static final MethodHandle SGEMV;
  private static final MethodHandle DGEMV;
  /**
   * One-row products of at least this many weights are split by output columns over Kiln's pool: gemv
   * streams the whole weight matrix once, so past the caches both cores' memory bandwidth helps.
   */
  static final long GEMV_SPLIT_ELEMENTS = 1 << 17;

  static {
    FORCED_CORETYPE = forceCoreType();
    String openblas = Loader.load(openblas_nolapack.class);
    MethodHandle[] mkl = BlasChoice.MKL ? loadMkl() : null;
    MethodHandle s = null;
    MethodHandle d = null;
    if (mkl != null) {
      s = mkl[0];
      d = mkl[1];
    } else if (!RuntimeProperties.SYSTEM.blasCopying()) {
      try {
        s = Downcalls.critical(Path.of(openblas), "cblas_sgemm", gemmType(float[].class, float.class));
        d = Downcalls.critical(Path.of(openblas), "cblas_dgemm", gemmType(double[].class, double.class));
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.log(Level.FINE, "no critical downcalls (JDK " + Runtime.version().feature()
            + "); sgemm/dgemm copy their operands through JavaCPP", e);
        s = null;
        d = null;
      }
    }
    USED = mkl != null ? Library.MKL : Library.OPENBLAS;
    String setCore = System.getenv(CORETYPE);
    if (USED == Library.OPENBLAS && setCore != null) {
      Optional<String> slower = OpenBlasCoreType.slowerThanCpu(setCore, BlasChoice.cpuFlags());
      if (slower.isPresent()) {
        LOG.warning(slower.get());
      }
    }
    LIBRARY = openblas;
    SGEMM = s;
    DGEMM = d;
    ZERO_COPY = s != null;
    MethodHandle set = null;
    MethodHandle get = null;
    int threads = 1;
    // MKL picks its own thread count per product; the thread switches are OpenBLAS's.
    if (USED == Library.OPENBLAS) {
      try {
        get = Downcalls.critical(Path.of(LIBRARY), "openblas_get_num_threads", MethodType.methodType(int.class));
        threads = (int) get.invokeExact();
        set = Downcalls.critical(Path.of(LIBRARY), "openblas_set_num_threads", MethodType.methodType(void.class, int.class));
        if (KILN_THREADS && threads > 1) {
          set.invokeExact(1);
        }
      } catch (Throwable e) {
        LOG.log(Level.FINE, "no openblas_set_num_threads downcall; OpenBLAS uses its own thread count", e);
        set = null;
        get = null;
      }
    }
    GET_THREADS = get;
    SET_THREADS = !KILN_THREADS && SINGLE_THREAD_BELOW > 0 && threads > 1 ? set : null;
    THREADS = threads;
    MethodHandle ss = null;
    MethodHandle ds = null;
    if (LIBRARY != null && ZERO_COPY) {
      try {
        ss = Downcalls.criticalWithOffsets(Path.of(LIBRARY), "cblas_sgemm", gemmType(float[].class, float.class));
        ds = Downcalls.criticalWithOffsets(Path.of(LIBRARY), "cblas_dgemm", gemmType(double[].class, double.class));
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.log(Level.FINE, "no sgemm at offsets; products are not split, sub-matrix products use loops", e);
        ss = null;
        ds = null;
      }
    }
    SGEMM_SLICED = ss;
    DGEMM_SLICED = ds;
    MethodHandle sv = null;
    MethodHandle dv = null;
    if (USED == Library.OPENBLAS && ZERO_COPY) {
      try {
        sv = Downcalls.criticalWithOffsets(Path.of(LIBRARY), "cblas_sgemv", gemvType(float[].class, float.class));
        dv = Downcalls.criticalWithOffsets(Path.of(LIBRARY), "cblas_dgemv", gemvType(double[].class, double.class));
      } catch (ReflectiveOperationException | RuntimeException e) {
        LOG.log(Level.FINE, "no sgemv downcall; one-row products go to sgemm", e);
        sv = null;
        dv = null;
      }
    }
    SGEMV = sv;
    DGEMV = dv;
    SPLITS = KILN_THREADS && SPLIT_ABOVE > 0 && Parallel.THREADS > 1 && ss != null;
  }

  /** MKL's cblas_sgemm/dgemm as critical downcalls, or null (logged) when MKL or the downcalls are missing. */
  private static MethodHandle[] loadMkl() {
    try {
      // By name: MKL's classes are on the class path only when the user added them.
      Path lib = Path.of(Loader.load(Class.forName(BlasChoice.MKL_CLASS)));
      return new MethodHandle[] {
          Downcalls.critical(lib, "cblas_sgemm", gemmType(float[].class, float.class)),
          Downcalls.critical(lib, "cblas_dgemm", gemmType(double[].class, double.class))};
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(Level.WARNING, "MKL is on the class path but does not load here (" + e + "); using OpenBLAS", e);
      return null;
    }
  }

  /** The threads OpenBLAS runs a product on now (openblas_get_num_threads); empty with MKL. */
  public static java.util.OptionalInt openBlasThreads() {
    if (GET_THREADS == null) {
      return java.util.OptionalInt.empty();
    }
    try {
      return java.util.OptionalInt.of((int) GET_THREADS.invokeExact());
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** "MKL" or OpenBLAS's core type, for reports. */
  public static String describe() {
    return USED == Library.MKL ? "MKL" : "OpenBLAS " + coreName();
  }

  /** Switches OpenBLAS to one thread for a small product; returns whether it did. */
  private static boolean enterOneThread(int m, int n, int k) {
    boolean one = small(m, n, k);
    if (one) {
      setThreads(1);
    }
    return one;
  }

  private static void leaveOneThread(boolean one) {
    if (one) {
      setThreads(THREADS);
    }
  }

  /**
   * Runs {@code body} with OpenBLAS on one thread where it can be switched (as for a small product),
   * for callers that split many products over the cores themselves.
   */
  public static void onOneThread(Runnable body) {
    boolean one = SET_THREADS != null;
    if (one) {
      setThreads(1);
    }
    try {
      body.run();
    } finally {
      leaveOneThread(one);
    }
  }

  private static boolean small(int m, int n, int k) {
    return SET_THREADS != null && (long) m * n * k < SINGLE_THREAD_BELOW;
  }

  private static void setThreads(int n) {
    try {
      SET_THREADS.invokeExact(n);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static MethodType gemvType(Class<?> array, Class<?> scalar) {
    return MethodType.methodType(void.class, new Class<?>[] {int.class, int.class, int.class, int.class,
        scalar, array, int.class, array, int.class, scalar, array, int.class});
  }

  private static MethodType gemmType(Class<?> array, Class<?> scalar) {
    return MethodType.methodType(void.class, new Class<?>[] {int.class, int.class, int.class, int.class,
        int.class, int.class, scalar, array, int.class, array, int.class, scalar, array, int.class});
  }

  /** Forces the SkylakeX kernels when the CPU has AVX-512F and the user chose no core type (OpenBlasCoreType.toForce). */
  private static Optional<String> forceCoreType() {
    Optional<String> core = OpenBlasCoreType.toForce(Optional.ofNullable(System.getenv(CORETYPE)),
        BlasChoice.cpuFlags());
    if (core.isEmpty()) {
      return core;
    }
    try {
      if (Downcalls.setenv(CORETYPE, core.get())) {
        return core;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "setenv through java.lang.foreign failed; trying the systems preset", e);
    }
    try {
      if (org.bytedeco.systems.global.linux.setenv(CORETYPE, core.get(), 1) == 0) {
        return core;
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.WARNING, "could not set " + CORETYPE + "; OpenBLAS picks its own kernels", e);
    }
    return Optional.empty();
  }

  /** The core type OpenBLAS uses (e.g. "SkylakeX", "Haswell"). */
  public static String coreName() {
    try {
      return Downcalls.coreName(Path.of(LIBRARY));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "unknown";
    }
  }

  /** c[m,n] = op(a) * op(b), op(x) = x or its transpose; a is [m,k] ([k,m] if ta), b [k,n] ([n,k] if tb). */
  public static void sgemm(boolean ta, boolean tb, int m, int n, int k, float[] a, float[] b, float[] c) {
    sgemm(ta, tb, m, n, k, 1f, a, b, 0f, c);
  }

  /** c = alpha * op(a) * op(b) + beta * c (c is read only when beta is not 0). */
  public static void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c) {
    if (!ZERO_COPY) {
      sgemmCopying(ta, tb, m, n, k, alpha, a, b, beta, c);
      return;
    }
    if (m == 1 && SGEMV != null) {
      // c[1,n] = a[1,k] * op(b): b [n,k] times the vector a, or b [k,n] transposed; a's k values are
      // contiguous whether or not ta (a [k,1] column). With beta 0, c may hold a dead value's NaNs, which
      // gemv's scaling by 0 would keep.
      if (beta == 0f) {
        java.util.Arrays.fill(c, 0, n, 0f);
      }
      if (splitsGemv(n, k)) {
        GemmSplit.split(false, tb, 1, n, k, (pm, pn, aOff, bOff, cOff) -> sgemv(tb, pn, k, alpha, b, (int) bOff,
            tb ? k : n, a, beta, c, (int) cOff));
      } else {
        sgemv(tb, n, k, alpha, b, 0, tb ? k : n, a, beta, c, 0);
      }
      return;
    }
    if (SPLITS && splits(m, n, k)) {
      GemmSplit.split(ta, tb, m, n, k, (pm, pn, aOff, bOff, cOff) -> sgemmAt(ta, tb, pm, pn, k, alpha, a, (int) aOff,
          ta ? m : k, b, (int) bOff, tb ? k : n, beta, c, (int) cOff, n));
      return;
    }
    boolean oneThread = enterOneThread(m, n, k);
    try {
      SGEMM.invokeExact(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k,
          alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      leaveOneThread(oneThread);
    }
  }

  public static void dgemm(boolean ta, boolean tb, int m, int n, int k, double[] a, double[] b, double[] c) {
    dgemm(ta, tb, m, n, k, 1.0, a, b, 0.0, c);
  }

  /** c = alpha * op(a) * op(b) + beta * c (c is read only when beta is not 0). */
  public static void dgemm(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, double[] b, double beta,
      double[] c) {
    if (!ZERO_COPY) {
      dgemmCopying(ta, tb, m, n, k, alpha, a, b, beta, c);
      return;
    }
    if (m == 1 && DGEMV != null) {
      if (beta == 0.0) {
        java.util.Arrays.fill(c, 0, n, 0.0);
      }
      if (splitsGemv(n, k)) {
        GemmSplit.split(false, tb, 1, n, k, (pm, pn, aOff, bOff, cOff) -> dgemv(tb, pn, k, alpha, b, (int) bOff,
            tb ? k : n, a, beta, c, (int) cOff));
      } else {
        dgemv(tb, n, k, alpha, b, 0, tb ? k : n, a, beta, c, 0);
      }
      return;
    }
    if (SPLITS && splits(m, n, k)) {
      GemmSplit.split(ta, tb, m, n, k, (pm, pn, aOff, bOff, cOff) -> dgemmAt(ta, tb, pm, pn, k, alpha, a, (int) aOff,
          ta ? m : k, b, (int) bOff, tb ? k : n, beta, c, (int) cOff, n));
      return;
    }
    boolean oneThread = enterOneThread(m, n, k);
    try {
      DGEMM.invokeExact(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k,
          alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      leaveOneThread(oneThread);
    }
  }

  private static boolean splitsGemv(int n, int k) {
    return SPLITS && (long) n * k >= GEMV_SPLIT_ELEMENTS && n >= 2 * GemmSplit.ALIGN;
  }

  /** c[cOff, cOff + n) = alpha * a[k] times the n columns of b at bOff (rows if tb) + beta * c. */
  private static void sgemv(boolean tb, int n, int k, float alpha, float[] b, int bOff, int ldb, float[] a, float beta,
      float[] c, int cOff) {
    try {
      SGEMV.invokeExact(ROW_MAJOR, tb ? NO_TRANS : TRANS, tb ? n : k, tb ? k : n, alpha, b, bOff, ldb, a, 0, 1, beta,
          c, cOff, 1);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static void dgemv(boolean tb, int n, int k, double alpha, double[] b, int bOff, int ldb, double[] a,
      double beta, double[] c, int cOff) {
    try {
      DGEMV.invokeExact(ROW_MAJOR, tb ? NO_TRANS : TRANS, tb ? n : k, tb ? k : n, alpha, b, bOff, ldb, a, 0, 1, beta,
          c, cOff, 1);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static boolean splits(int m, int n, int k) {
    return (long) m * n * k >= SPLIT_ABOVE;
  }

  /** Whether {@link #sgemmAt}/{@link #dgemmAt} can be called (a zero-copy BLAS binding, JDK 22+). */
  public static boolean gemmAtAvailable() {
    return SGEMM_SLICED != null;
  }

  /**
   * c = alpha * op(a) op(b) + beta * c on sub-matrices of heap arrays, row-major: each operand is an
   * array, an element offset and a leading dimension, as BLAS takes them (a piece of a split product, one
   * group of a convolution, one product of a batch). Needs {@link #gemmAtAvailable()}.
   */
  public static void sgemmAt(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
    try {
      SGEMM_SLICED.invokeExact(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, alpha, a,
          aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@link #sgemmAt} in double precision. */
  public static void dgemmAt(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, int aOff,
      int lda, double[] b, int bOff, int ldb, double beta, double[] c, int cOff, int ldc) {
    try {
      DGEMM_SLICED.invokeExact(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, alpha, a,
          aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** JavaCPP's array overload: copies a, b and c in and c back out on every call. */
  public static void sgemmCopying(boolean ta, boolean tb, int m, int n, int k, float[] a, float[] b, float[] c) {
    sgemmCopying(ta, tb, m, n, k, 1f, a, b, 0f, c);
  }

  public static void sgemmCopying(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, float[] b, float beta,
      float[] c) {
    openblas_nolapack.cblas_sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k,
        alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
  }

  public static void dgemmCopying(boolean ta, boolean tb, int m, int n, int k, double[] a, double[] b, double[] c) {
    dgemmCopying(ta, tb, m, n, k, 1.0, a, b, 0.0, c);
  }

  public static void dgemmCopying(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, double[] b,
      double beta, double[] c) {
    openblas_nolapack.cblas_dgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k,
        alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
  }

  public static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("BLAS call failed", t);
  }
}
