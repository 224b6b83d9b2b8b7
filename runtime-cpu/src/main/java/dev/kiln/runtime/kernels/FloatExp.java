package dev.kiln.runtime.kernels;

/**
 * The float exp polynomial that {@link VectorMath} (Vector API) and {@link ScalarMath} (plain Java)
 * both evaluate, operation for operation, so that a run gives the same bits with and without the
 * Vector API: exp(t) = 2^k (1 + r + r^2 (P0 + r (P1 + r (P2 + r (P3 + r P4))))), k = round(t / ln2),
 * r = t - k ln2 in two steps (Cody-Waite, k C1 then k C2). Also ScalarMath's scalar pieces.
 */
final class FloatExp {
  private FloatExp() {}

  static final float LOG2E = 1.44269504088896341f;
  /** ln2 = C1 + C2, C1 with few enough bits that k C1 is exact for |k| < 2^9. */
  static final float C1 = 0.693359375f;
  static final float C2 = -2.12194440e-4f;
  /** 1.5 * 2^23: (t + ROUND) - ROUND rounds t to an integer. */
  static final float ROUND = 12582912f;
  // A degree-6 fit of exp's relative error on |r| <= ln2/2 (Lawson iterations; max 3.1e-9 before
  // rounding to float coefficients).
  static final float P0 = 4.9999994040e-01f;
  static final float P1 = 1.6666519642e-01f;
  static final float P2 = 4.1668392718e-02f;
  static final float P3 = 8.3687482402e-03f;
  static final float P4 = 1.3814542908e-03f;

  // Scalar pieces for ScalarMath: 2^k without the bits of a float (which C2 cannot vectorize), and
  // VectorMath's careful formulas for one element.

  /** 2^(j - 126) for 94 <= j < 158 (|k| < 32), as pow2 over the six bits of j - 94 (five squarings). */
  static float pow2Six(int j) {
    int m = j - 94;
    float s = (float) ((m >> 5) & 1) + 1f;
    s *= s;
    s = Math.fma(s, (float) ((m >> 4) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((m >> 3) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((m >> 2) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((m >> 1) & 1), s);
    s *= s;
    s = Math.fma(s, (float) (m & 1), s);
    return s * 0x1p-32f;
  }

  /**
   * 2^(j - 126) for 0 <= j < 256, exactly: 2^(j mod 128) by squaring over j's bits from the top, times
   * 4 or 2^-126 for j's eighth bit. Every intermediate is a normal power of two.
   */
  static float pow2(int j) {
    float s = (float) ((j >> 6) & 1) + 1f;
    s *= s;
    s = Math.fma(s, (float) ((j >> 5) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((j >> 4) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((j >> 3) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((j >> 2) & 1), s);
    s *= s;
    s = Math.fma(s, (float) ((j >> 1) & 1), s);
    s *= s;
    s = Math.fma(s, (float) (j & 1), s);
    float high = (float) (j >> 7);
    return s * Math.fma(high, 4f, (1f - high) * 0x1p-126f);
  }

  private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

  /** r + r^2 P(r): exp(r) - 1 for |r| <= ln2/2. */
  static float polynomial(float r) {
    return Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P4, P3), r, P2), r, P1), r, P0), r * r, r);
  }

  /** exp with 2^k applied in two steps (right near overflow and for subnormal results); NaN stays. */
  static float expCareful(float v) {
    if (Float.isNaN(v)) {
      return v;
    }
    float xc = Math.min(Math.max(v, -104f), 89f);
    float kr = Math.fma(xc, LOG2E, ROUND);
    float k = kr - ROUND;
    float r = Math.fma(k, -C2, Math.fma(k, -C1, xc));
    float p = polynomial(r) + 1f;
    int ki = Float.floatToRawIntBits(kr) - ROUND_BITS;
    int k1 = ki >> 1;
    return p * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((ki - k1 + 127) << 23);
  }

  /** 1/(1+e) for x >= 0, e/(1+e) below, e = exp(-|x|) (never overflows). */
  static float sigmoidCareful(float v) {
    if (Float.isNaN(v)) {
      return v;
    }
    float e = expCareful(-Math.abs(v));
    return (v >= 0f ? 1f : e) / (e + 1f);
  }
}
