package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * c[m,n] = a[m,k] b[k,n] (+ c) in float32 for products with few rows, such as a recurrent step's
 * [batch, hidden] x [hidden, 4 hidden]: a Vector API loop that reads b where it lies. BLAS packs the
 * whole of b on every call, which for a few rows costs about as much as the product itself; here each
 * strip of {@link #STRIP} columns of b is streamed once per {@link #ROWS} rows of a, accumulating in
 * registers. The columns are cut over the cores in whole strips, so each core keeps its part of b in
 * its own cache from call to call. Load only when {@link VectorSupport#AVAILABLE}.
 */
final class SkinnyGemm {
  private SkinnyGemm() {}

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Columns per strip: two vectors. */
  static final int STRIP = 2 * L;
  /** Rows of a per register block (16 accumulators). */
  static final int ROWS = 8;
  /**
   * At most this many rows: with more, BLAS's packing of b is shared by enough rows to pay for itself,
   * and BLAS is fast from its first call, while this loop runs its first calls before the JIT has
   * compiled its vector code.
   */
  static final int MAX_ROWS = 32;
  /** Products of at least this many multiply-adds are cut over the cores. */
  static final long SPLIT_MACS = 1L << 20;

  /**
   * Whether the loop takes this product: untransposed operands, at most {@link #MAX_ROWS} rows, whole
   * strips of columns, and a vector of at least 8 floats (AVX2 or wider).
   */
  static boolean applies(boolean ta, boolean tb, int m, int n, int k) {
    return !ta && !tb && L >= 8 && m >= 1 && m <= MAX_ROWS && k >= 1 && n % STRIP == 0;
  }

  /** c = a b, or c += a b when {@code accumulate}. */
  static void multiply(int m, int n, int k, float[] a, float[] b, float[] c, boolean accumulate) {
    int strips = n / STRIP;
    int parts = (long) m * n * k >= SPLIT_MACS ? Math.min(Parallel.THREADS, strips) : 1;
    Parallel.split(strips, parts, (lo, hi) -> columns(m, n, k, a, b, c, accumulate, lo * STRIP, hi * STRIP));
  }

  private static void columns(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc, int from, int to) {
    for (int j = from; j < to; j += STRIP) {
      int r = 0;
      for (; r + ROWS <= m; r += ROWS) {
        block8(n, k, a, b, c, acc, r, j);
      }
      for (; r < m; r++) {
        row(n, k, a, b, c, acc, r, j);
      }
    }
  }

  private static void block8(int n, int k, float[] a, float[] b, float[] c, boolean acc, int r, int j) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S);
    FloatVector c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S);
    FloatVector c51 = FloatVector.zero(S);
    FloatVector c60 = FloatVector.zero(S);
    FloatVector c61 = FloatVector.zero(S);
    FloatVector c70 = FloatVector.zero(S);
    FloatVector c71 = FloatVector.zero(S);
    int a0 = r * k;
    for (int p = 0; p < k; p++) {
      int bo = p * n + j;
      FloatVector b0 = FloatVector.fromArray(S, b, bo);
      FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
      int ap = a0 + p;
      FloatVector x = FloatVector.broadcast(S, a[ap]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[ap + k]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[ap + 2 * k]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[ap + 3 * k]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[ap + 4 * k]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[ap + 5 * k]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
      x = FloatVector.broadcast(S, a[ap + 6 * k]);
      c60 = x.fma(b0, c60);
      c61 = x.fma(b1, c61);
      x = FloatVector.broadcast(S, a[ap + 7 * k]);
      c70 = x.fma(b0, c70);
      c71 = x.fma(b1, c71);
    }
    int co = r * n + j;
    store(c, co, c00, c01, acc);
    store(c, co + n, c10, c11, acc);
    store(c, co + 2 * n, c20, c21, acc);
    store(c, co + 3 * n, c30, c31, acc);
    store(c, co + 4 * n, c40, c41, acc);
    store(c, co + 5 * n, c50, c51, acc);
    store(c, co + 6 * n, c60, c61, acc);
    store(c, co + 7 * n, c70, c71, acc);
  }

  private static void row(int n, int k, float[] a, float[] b, float[] c, boolean acc, int r, int j) {
    FloatVector s0 = FloatVector.zero(S);
    FloatVector s1 = FloatVector.zero(S);
    int a0 = r * k;
    for (int p = 0; p < k; p++) {
      int bo = p * n + j;
      FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
      s0 = x.fma(FloatVector.fromArray(S, b, bo), s0);
      s1 = x.fma(FloatVector.fromArray(S, b, bo + L), s1);
    }
    store(c, r * n + j, s0, s1, acc);
  }

  private static void store(float[] c, int at, FloatVector v0, FloatVector v1, boolean acc) {
    if (acc) {
      v0 = v0.add(FloatVector.fromArray(S, c, at));
      v1 = v1.add(FloatVector.fromArray(S, c, at + L));
    }
    v0.intoArray(c, at);
    v1.intoArray(c, at + L);
  }
}
