package dev.kiln.runtime.kernels;

import static dev.kiln.runtime.kernels.FloatExp.C1;
import static dev.kiln.runtime.kernels.FloatExp.C2;
import static dev.kiln.runtime.kernels.FloatExp.LOG2E;
import static dev.kiln.runtime.kernels.FloatExp.P0;
import static dev.kiln.runtime.kernels.FloatExp.P1;
import static dev.kiln.runtime.kernels.FloatExp.P2;
import static dev.kiln.runtime.kernels.FloatExp.P3;
import static dev.kiln.runtime.kernels.FloatExp.P4;
import static dev.kiln.runtime.kernels.FloatExp.ROUND;
import static dev.kiln.runtime.kernels.FloatExp.pow2;
import static dev.kiln.runtime.kernels.FloatExp.pow2Six;
import static dev.kiln.runtime.kernels.FloatExp.sigmoidCareful;

/**
 * Float exp, sigmoid and tanh over array ranges without the Vector API: {@link VectorMath}'s
 * formulas, the same IEEE operations in the same order (so a lane gives the same bits either way),
 * as short counted loops over arrays that C2 turns into vector instructions by itself.
 *
 * <p>C2 vectorizes a loop only when its body is small and made of operations it has vector forms
 * for; Float.floatToRawIntBits/intBitsToFloat and shifts by a per-element count are not among them,
 * so 2^k cannot be made from k's bits as VectorMath does. Each function runs as a few loops over the
 * row: the polynomial, which also turns k into a code for 2^k, then 2^k and the last steps. The code
 * is the half-precision float 2^k (Float.float16ToFloat, which C2 vectorizes) where every |k| <= 14;
 * else k + 126, with 2^k built by squaring over its bits (every factor and product is a power of
 * two: exact), over six bits where every |k| <= 31, eight otherwise.
 *
 * <p>Which holds for a row is read off its largest |x| first (an int OR over the row). A row with an
 * element near or past the edge of the fast formulas' range (|x| >= 87 for exp and sigmoid, |x| >= 9
 * or zero for tanh) runs VectorMath's careful formula for exp and tanh (clamped, 2^k in two steps,
 * the sign of zero kept), which equals the fast one inside that range; sigmoid's careful formula
 * differs for x < 0, so those elements alone are recomputed one by one. NaN propagates (its payload
 * may differ from VectorMath's).
 */
public final class ScalarMath {
  private ScalarMath() {}

  /** Elements a thread keeps scratch for (a fused block, 18 KiB); longer rows go in pieces of this length. */
  private static final int CHUNK = 1024;

  private static final class Scratch {
    final float[] q; // the row, copied from an offset
    final float[] p; // the polynomial; the result, to be copied to an offset
    final int[] j;   // k + 126
    final int[] j1;  // k / 2 + 126 (rounded down), where 2^k is applied in two steps
    final short[] h; // 2^k as a half-precision float

    Scratch(int n) {
      q = new float[n];
      p = new float[n];
      j = new int[n];
      j1 = new int[n];
      h = new short[n];
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(CHUNK));

  /** True for the float ops this class computes. */
  public static boolean handles(UnaryKernels.Op op) {
    return switch (op) {
      case EXP, SIGMOID, TANH -> true;
      default -> false;
    };
  }

  public static void f32(UnaryKernels.Op op, float[] x, int xo, float[] y, int yo, int n) {
    switch (op) {
      case EXP -> expScaled(x, xo, 1f, y, yo, n);
      case SIGMOID -> sigmoid(x, xo, y, yo, n);
      case TANH -> tanh(x, xo, y, yo, n);
      default -> throw new AssertionError(op);
    }
  }

  /** y = exp(x) * c, rounded twice as VectorMath.expScaledF32 rounds it (c = 1: plain exp). */
  public static void expScaled(float[] x, int xo, float c, float[] y, int yo, int n) {
    if (n > CHUNK) {
      for (int at = 0; at < n; at += CHUNK) {
        expScaled(x, xo + at, c, y, yo + at, Math.min(CHUNK, n - at));
      }
      return;
    }
    // every |x| < 10: |k| <= round(14.43); < 20: round(28.9); < 80: 115
    int range = range(x, xo, n, 0.1f);
    if (range < 8) {
      run(range == 0 ? EXP_HALF : range == 1 ? EXP_SIX : EXP_EIGHT, x, xo, c, y, yo, n, null);
    } else {
      run(EXP_WIDE, x, xo, c, y, yo, n, null);
    }
  }

  /** y = 1 / (1 + exp(-x)). */
  public static void sigmoid(float[] x, int xo, float[] y, int yo, int n) {
    if (n > CHUNK) {
      for (int at = 0; at < n; at += CHUNK) {
        sigmoid(x, xo + at, y, yo + at, Math.min(CHUNK, n - at));
      }
      return;
    }
    int range = range(x, xo, n, 0.1f);
    if (range < 8) {
      run(range == 0 ? SIGMOID_HALF : range == 1 ? SIGMOID_SIX : SIGMOID_EIGHT, x, xo, 1f, y, yo, n, null);
    } else {
      run(SIGMOID_EIGHT, x, xo, 1f, y, yo, n, ScalarMath::sigmoidOutside);
    }
  }

  /** y = tanh(x) = u / (u + 2), u = expm1(2x). */
  public static void tanh(float[] x, int xo, float[] y, int yo, int n) {
    if (n > CHUNK) {
      for (int at = 0; at < n; at += CHUNK) {
        tanh(x, xo + at, y, yo + at, Math.min(CHUNK, n - at));
      }
      return;
    }
    // every |x| < 4.4: |k| <= round(12.7) for 2x; < 8.8 (inside |x| < 9): round(25.4)
    int range = range(x, xo, n, 1f / 4.4f) | tiny(x, xo, n);
    if (range < 2) {
      run(range == 0 ? TANH_HALF : TANH_SIX, x, xo, 1f, y, yo, n, null);
    } else {
      run(TANH_WIDE, x, xo, 1f, y, yo, n, null);
    }
  }

  /**
   * The OR over the row of (int) (|x| scale): 0 only where every |x| < 1 / scale, below 2^m only
   * where every |x| < 2^m / scale. NaN gives 0: the fast formulas propagate it.
   */
  private static int range(float[] x, int xo, int n, float scale) {
    int range = 0;
    for (int i = 0; i < n; i++) {
      range |= (int) (Math.abs(x[xo + i]) * scale);
    }
    return range;
  }

  /** 2 or more where some |x| <= 2^-100: a zero keeps its sign only on tanh's careful path. */
  private static int tiny(float[] x, int xo, int n) {
    int tiny = 0;
    for (int i = 0; i < n; i++) {
      tiny |= (int) (0x1p-99f / Math.abs(x[xo + i]));
    }
    return tiny;
  }

  /**
   * One loop of a function over a row from index 0: x the input, y the output, s the scratch between
   * the two (p and a code for 2^k), c exp's factor.
   */
  @FunctionalInterface
  private interface Pass {
    void run(float[] x, Scratch s, float c, float[] y, int n);
  }

  private static final Pass EXP_CODE = (x, s, c, y, n) -> expPolynomial(x, 1f, s.p, s.j, n);
  private static final Pass[] EXP_HALF = {(x, s, c, y, n) -> expPolynomialHalf(x, 1f, s.p, s.h, n),
      (x, s, c, y, n) -> scaleHalf(s.p, s.h, c, y, n)};
  private static final Pass[] EXP_SIX = {EXP_CODE, (x, s, c, y, n) -> scaleSix(s.p, s.j, c, y, n)};
  private static final Pass[] EXP_EIGHT = {EXP_CODE, (x, s, c, y, n) -> scale(s.p, s.j, c, y, n)};
  private static final Pass SIGMOID_CODE = (x, s, c, y, n) -> expPolynomial(x, -1f, s.p, s.j, n);
  private static final Pass[] SIGMOID_HALF = {(x, s, c, y, n) -> expPolynomialHalf(x, -1f, s.p, s.h, n),
      (x, s, c, y, n) -> sigmoidHalf(s.p, s.h, y, n)};
  private static final Pass[] SIGMOID_SIX = {SIGMOID_CODE, (x, s, c, y, n) -> sigmoidSix(s.p, s.j, y, n)};
  private static final Pass[] SIGMOID_EIGHT = {SIGMOID_CODE, (x, s, c, y, n) -> sigmoidEight(s.p, s.j, y, n)};
  private static final Pass[] TANH_HALF = {(x, s, c, y, n) -> expm1PolynomialHalf(x, s.p, s.h, n),
      (x, s, c, y, n) -> tanhHalf(s.p, s.h, y, n)};
  private static final Pass[] TANH_SIX = {(x, s, c, y, n) -> expm1Polynomial(x, s.p, s.j, n),
      (x, s, c, y, n) -> tanhSix(s.p, s.j, y, n)};
  // VectorMath's careful formulas, for rows with elements past the fast ranges: equal to the fast
  // ones inside them (the clamps do not bind there, and 2^k in two exact steps is 2^k).
  private static final Pass[] EXP_WIDE = {(x, s, c, y, n) -> expPolynomialClamped(x, s.p, s.j, n),
      (x, s, c, y, n) -> splitExponents(s.j, s.j1, n), (x, s, c, y, n) -> scaleInPlace(s.p, s.j1, n),
      (x, s, c, y, n) -> scale(s.p, s.j, c, y, n)};
  private static final Pass[] TANH_WIDE = {(x, s, c, y, n) -> expm1PolynomialClamped(x, s.p, s.j, n),
      (x, s, c, y, n) -> tanhSix(s.p, s.j, s.p, n), (x, s, c, y, n) -> signOf(x, s.p, y, n)};

  /** Recomputes, in the row's result p, the elements the fast formula does not cover. */
  @FunctionalInterface
  private interface Fix {
    void apply(float[] x, int xo, float c, float[] p, int n);
  }

  /**
   * Runs the passes through one call site that sees them all, so C2 calls each pass's compiled loop
   * rather than inlining the loops together (inlined into one method, some were left scalar,
   * depending on the order of compilation). Every loop indexes its arrays from 0: C2 does not
   * vectorize a loop over two float arrays at different offsets (they might overlap), so a row at an
   * offset is copied to scratch (s.p, where the polynomial is then computed in place) and its result
   * copied out; so is a row with a fix, which reads x after the passes (y may be x).
   */
  private static void run(Pass[] passes, float[] x, int xo, float c, float[] y, int yo, int n, Fix fix) {
    Scratch s = SCRATCH.get();
    float[] in = x;
    if (xo != 0) {
      System.arraycopy(x, xo, s.q, 0, n);
      in = s.q;
    }
    boolean direct = yo == 0 && fix == null;
    float[] out = direct ? y : s.p;
    for (Pass pass : passes) {
      pass.run(in, s, c, out, n);
    }
    if (fix != null) {
      fix.apply(x, xo, c, s.p, n);
    }
    if (!direct) {
      System.arraycopy(s.p, 0, y, yo, n);
    }
  }

  // The elements past sigmoid's fast range, as VectorMath computes those lanes (its careful formula
  // differs from the fast one for x < 0, so it is not used for the whole row).

  private static void sigmoidOutside(float[] x, int xo, float c, float[] p, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[xo + i];
      if (!(Math.abs(v) < 87f)) {
        p[i] = sigmoidCareful(v);
      }
    }
  }

  // The loops. t = x * sign is exact (sign 1 or -1), as is 2x.

  /** p = 1 + r + r^2 P(r) of t = sign x, j = k + 126 with k = round(t / ln2). */
  private static void expPolynomial(float[] x, float sign, float[] p, int[] j, int n) {
    for (int i = 0; i < n; i++) {
      float t = x[i] * sign;
      float k = Math.fma(t, LOG2E, ROUND) - ROUND;
      float r = Math.fma(k, -C2, Math.fma(k, -C1, t));
      p[i] = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r) + 1f;
      j[i] = (int) k + 126;
    }
  }

  /** As expPolynomial, with 2^k as the bits of a half-precision float, (k + 15) << 10 (|k| <= 14). */
  private static void expPolynomialHalf(float[] x, float sign, float[] p, short[] h, int n) {
    for (int i = 0; i < n; i++) {
      float t = x[i] * sign;
      float k = Math.fma(t, LOG2E, ROUND) - ROUND;
      float r = Math.fma(k, -C2, Math.fma(k, -C1, t));
      p[i] = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r) + 1f;
      h[i] = (short) Math.fma(k, 1024f, 15360f);
    }
  }

  /** p = r + r^2 P(r) (expm1 of r) of t = 2x, j = k + 126. */
  private static void expm1Polynomial(float[] x, float[] p, int[] j, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[i];
      float t = v + v;
      float k = Math.fma(t, LOG2E, ROUND) - ROUND;
      float r = Math.fma(k, -C2, Math.fma(k, -C1, t));
      p[i] = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r);
      j[i] = (int) k + 126;
    }
  }

  private static void expm1PolynomialHalf(float[] x, float[] p, short[] h, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[i];
      float t = v + v;
      float k = Math.fma(t, LOG2E, ROUND) - ROUND;
      float r = Math.fma(k, -C2, Math.fma(k, -C1, t));
      p[i] = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r);
      h[i] = (short) Math.fma(k, 1024f, 15360f);
    }
  }

  /** As expPolynomial of x clamped to [-104, 89] (where exp rounds to 0 and overflows). */
  private static void expPolynomialClamped(float[] x, float[] p, int[] j, int n) {
    for (int i = 0; i < n; i++) {
      float t = Math.min(Math.max(x[i], -104f), 89f);
      float k = Math.fma(t, LOG2E, ROUND) - ROUND;
      float r = Math.fma(k, -C2, Math.fma(k, -C1, t));
      p[i] = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r) + 1f;
      j[i] = (int) k + 126;
    }
  }

  /** As expm1Polynomial of 2x clamped to [-20, 20] (where tanh rounds to +-1). */
  private static void expm1PolynomialClamped(float[] x, float[] p, int[] j, int n) {
    for (int i = 0; i < n; i++) {
      float v = x[i];
      float t = Math.min(Math.max(v + v, -20f), 20f);
      float k = Math.fma(t, LOG2E, ROUND) - ROUND;
      float r = Math.fma(k, -C2, Math.fma(k, -C1, t));
      p[i] = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r);
      j[i] = (int) k + 126;
    }
  }

  // exp: y = p 2^k c; past the fast range (p 2^(k >> 1)) 2^(k - (k >> 1)) c, each factor in range.

  /**
   * j1 = (k >> 1) + 126, j = k - (k >> 1) + 126 in place (a loop of its own: with the shift inside
   * the loop that builds 2^k, C2 left that loop scalar).
   */
  private static void splitExponents(int[] j, int[] j1, int n) {
    for (int i = 0; i < n; i++) {
      int k = j[i] - 126;
      int half = k >> 1;
      j1[i] = half + 126;
      j[i] = k - half + 126;
    }
  }

  private static void scaleInPlace(float[] p, int[] j, int n) {
    for (int i = 0; i < n; i++) {
      p[i] = p[i] * pow2(j[i]);
    }
  }

  private static void scale(float[] p, int[] j, float c, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = p[i] * pow2(j[i]) * c;
    }
  }

  private static void scaleSix(float[] p, int[] j, float c, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = p[i] * pow2Six(j[i]) * c;
    }
  }

  private static void scaleHalf(float[] p, short[] h, float c, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = p[i] * Float.float16ToFloat(h[i]) * c;
    }
  }

  // sigmoid: y = 1 / (p 2^k + 1).

  private static void sigmoidEight(float[] p, int[] j, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = 1f / (p[i] * pow2(j[i]) + 1f);
    }
  }

  private static void sigmoidSix(float[] p, int[] j, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = 1f / (p[i] * pow2Six(j[i]) + 1f);
    }
  }

  private static void sigmoidHalf(float[] p, short[] h, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = 1f / (p[i] * Float.float16ToFloat(h[i]) + 1f);
    }
  }

  // tanh: y = u / (u + 2), u = expm1(2x) = 2^k expm1(r) + (2^k - 1) (no cancellation near 0).

  private static void tanhSix(float[] p, int[] j, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      float s = pow2Six(j[i]);
      float u = Math.fma(s, p[i], s - 1f);
      y[i] = u / (u + 2f);
    }
  }

  /** y = |th| with the sign of x: tanh's zeros keep their sign (elsewhere th has x's sign already). */
  private static void signOf(float[] x, float[] th, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = Math.abs(th[i]) * Math.signum(x[i]);
    }
  }

  private static void tanhHalf(float[] p, short[] h, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      float s = Float.float16ToFloat(h[i]);
      float u = Math.fma(s, p[i], s - 1f);
      y[i] = u / (u + 2f);
    }
  }
}
