package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float log, sin, cos and pow with the Vector API, computed in double lanes: a vector of floats is
 * widened to doubles (exactly), the function is evaluated to about 1e-12 relative, and the result is
 * rounded to float once. So results are the correctly rounded float almost always and at most 1 ulp
 * off (measured against Math over the whole float range in VectorMathTest: the same float as
 * (float) Math.f(x) for all but a few in a million inputs), with none of the extra care float
 * arithmetic would need (argument reduction near multiples of pi, log near 1, pow's error growing
 * with |y log x|). Lanes outside a function's fast range go through the Math function itself, so
 * special values (NaN, infinities, zeros, negative logs, huge trig arguments, pow's special cases,
 * overflow and underflow of pow) are exactly what the scalar kernels give. Only loaded when
 * {@link VectorSupport#AVAILABLE}.
 */
public final class WideVectorMath {
  private WideVectorMath() {}

  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  // As many floats as D has doubles: one float vector widens to one double vector.
  private static final VectorSpecies<Float> FD =
      VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));

  static void log(float[] x, int xo, float[] y, int yo, int n) {
    for (int i = 0; i < n; i += FD.length()) {
      VectorMask<Float> m = FD.indexInRange(i, n);
      FloatVector f = FloatVector.fromArray(FD, x, xo + i, m);
      // x > 0 and finite (subnormal floats are normal doubles); the rest is Math.log's.
      VectorMask<Float> fast = f.compare(VectorOperators.GT, 0f).and(f.compare(VectorOperators.LT, Float.POSITIVE_INFINITY));
      DoubleVector v = (DoubleVector) f.convertShape(VectorOperators.F2D, D, 0);
      ((FloatVector) logD(v).convertShape(VectorOperators.D2F, FD, 0)).intoArray(y, yo + i, m);
      patch(fast.not().and(m), x, xo + i, y, yo + i, 0);
    }
  }

  static void sin(float[] x, int xo, float[] y, int yo, int n) {
    trig(x, xo, y, yo, n, false);
  }

  static void cos(float[] x, int xo, float[] y, int yo, int n) {
    trig(x, xo, y, yo, n, true);
  }

  /**
   * sin or cos: x = j pi/2 + r, |r| <= pi/4, j = rint(x 2/pi) (|x| < 2^19, so j has at most 19 bits
   * and j * PIO2_HI is exact: PIO2_HI has 33 bits); then the polynomials of fdlibm's __kernel_sin
   * and __kernel_cos on r, chosen and signed by j mod 4.
   */
  private static void trig(float[] x, int xo, float[] y, int yo, int n, boolean cosine) {
    for (int i = 0; i < n; i += FD.length()) {
      VectorMask<Float> m = FD.indexInRange(i, n);
      FloatVector f = FloatVector.fromArray(FD, x, xo + i, m);
      VectorMask<Float> fast = f.abs().compare(VectorOperators.LT, 524288f); // false for NaN and +-inf
      DoubleVector v = (DoubleVector) f.convertShape(VectorOperators.F2D, D, 0);
      DoubleVector j = v.fma(TWO_OVER_PI, ROUND_D).sub(ROUND_D);
      DoubleVector r = v.sub(j.mul(PIO2_HI)).sub(j.mul(PIO2_LO)); // j * PIO2_HI is exact
      DoubleVector z = r.mul(r);
      DoubleVector s = z.fma(S6, S5).fma(z, S4).fma(z, S3).fma(z, S2).fma(z, S1).mul(z).fma(r, r);
      DoubleVector c = z.fma(C6, C5).fma(z, C4).fma(z, C3).fma(z, C2).fma(z, C1).mul(z.mul(z)).add(z.fma(-0.5, 1.0));
      LongVector q = (LongVector) j.convert(VectorOperators.D2L, 0);
      if (cosine) {
        q = q.add(1); // cos x = sin(x + pi/2)
      }
      VectorMask<Double> useCos = q.and(1L).compare(VectorOperators.NE, 0L).cast(D);
      VectorMask<Double> negate = q.and(2L).compare(VectorOperators.NE, 0L).cast(D);
      DoubleVector res = s.blend(c, useCos);
      res = res.blend(res.neg(), negate);
      if (!cosine) {
        res = res.blend(v, v.compare(VectorOperators.EQ, 0.0)); // sin(-0) = -0
      }
      ((FloatVector) res.convertShape(VectorOperators.D2F, FD, 0)).intoArray(y, yo + i, m);
      patch(fast.not().and(m), x, xo + i, y, yo + i, cosine ? 2 : 1);
    }
  }

  /**
   * pow(a, b) = exp(b log a) in double lanes where a > 0 is finite, b is finite and the result is a
   * normal float (|b log a| < 87); Math.pow elsewhere. {@code kind}: VV, VS (b uniform), SV (a uniform).
   */
  public static void pow(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    for (int i = 0; i < n; i += FD.length()) {
      VectorMask<Float> m = FD.indexInRange(i, n);
      FloatVector fa = kind == ArithmeticKernels.SV ? FloatVector.broadcast(FD, a[ao]) : FloatVector.fromArray(FD, a, ao + i, m);
      FloatVector fb = kind == ArithmeticKernels.VS ? FloatVector.broadcast(FD, b[bo]) : FloatVector.fromArray(FD, b, bo + i, m);
      DoubleVector va = (DoubleVector) fa.convertShape(VectorOperators.F2D, D, 0);
      DoubleVector vb = (DoubleVector) fb.convertShape(VectorOperators.F2D, D, 0);
      DoubleVector w = vb.mul(logD(va));
      VectorMask<Double> fastD = w.abs().compare(VectorOperators.LT, 87.0)
          .and(va.compare(VectorOperators.GT, 0.0)).and(va.compare(VectorOperators.LT, Double.POSITIVE_INFINITY));
      ((FloatVector) expD(w).convertShape(VectorOperators.D2F, FD, 0)).intoArray(o, oo + i, m);
      long slow = ~fastD.toLong() & m.toLong();
      while (slow != 0) {
        int l = Long.numberOfTrailingZeros(slow);
        float xa = kind == ArithmeticKernels.SV ? a[ao] : a[ao + i + l];
        float xb = kind == ArithmeticKernels.VS ? b[bo] : b[bo + i + l];
        o[oo + i + l] = (float) Math.pow(xa, xb);
        slow &= slow - 1;
      }
    }
  }

  /** Lanes {@code lanes} of y[yo..] from Math: 0 log, 1 sin, 2 cos. */
  private static void patch(VectorMask<Float> lanes, float[] x, int xo, float[] y, int yo, int function) {
    long bits = lanes.toLong();
    while (bits != 0) {
      int l = Long.numberOfTrailingZeros(bits);
      float v = x[xo + l];
      y[yo + l] = (float) switch (function) {
        case 0 -> Math.log(v);
        case 1 -> Math.sin(v);
        default -> Math.cos(v);
      };
      bits &= bits - 1;
    }
  }

  /**
   * log for positive finite doubles: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s),
   * s = (m - 1)/(m + 1), |s| <= 0.172, as 2s (1 + s^2/3 + ... + s^12/13) (next term below 2e-12 of
   * the result). Other lanes give garbage the callers replace.
   */
  private static DoubleVector logD(DoubleVector x) {
    LongVector bits = x.reinterpretAsLongs();
    LongVector t = bits.sub(SQRT_HALF_BITS);
    LongVector e = t.lanewise(VectorOperators.ASHR, 52);
    DoubleVector mant = t.and(MANTISSA).add(SQRT_HALF_BITS).reinterpretAsDoubles();
    DoubleVector s = mant.sub(1.0).div(mant.add(1.0));
    DoubleVector z = s.mul(s);
    DoubleVector p = z.fma(L13, L11).fma(z, L9).fma(z, L7).fma(z, L5).fma(z, L3).fma(z, ONE_D);
    DoubleVector ed = (DoubleVector) e.convert(VectorOperators.L2D, 0);
    return ed.mul(LN2_HI).add(s.add(s).mul(p)).add(ed.mul(LN2_LO)); // e * LN2_HI is exact
  }

  /** exp for |w| < 87 (the result is a normal double): Cody-Waite, Taylor to r^11 (|r| <= ln2/2). */
  private static DoubleVector expD(DoubleVector w) {
    DoubleVector k = w.fma(LOG2E_D, ROUND_D).sub(ROUND_D);
    DoubleVector r = w.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO)); // k * LN2_HI is exact
    DoubleVector p = r.fma(T11, T10).fma(r, T9).fma(r, T8).fma(r, T7).fma(r, T6).fma(r, T5).fma(r, T4).fma(r, T3)
        .fma(r, T2).fma(r, ONE_D).fma(r, ONE_D);
    LongVector ki = (LongVector) k.convert(VectorOperators.D2L, 0);
    return p.mul(ki.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles());
  }

  private static final double ROUND_D = 6755399441055744.0; // 1.5 * 2^52: (t + R) - R rounds t to an integer
  private static final double TWO_OVER_PI = 6.36619772367581382433e-01;
  private static final double PIO2_HI = 1.57079632673412561417e+00; // fdlibm pio2_1: pi/2's first 33 bits
  private static final double PIO2_LO = 6.07710050650619224932e-11; // pi/2 - pio2_1
  // fdlibm __kernel_sin and __kernel_cos
  private static final DoubleVector S1 = c(-1.66666666666666324348e-01);
  private static final DoubleVector S2 = c(8.33333333332248946124e-03);
  private static final DoubleVector S3 = c(-1.98412698298579493134e-04);
  private static final DoubleVector S4 = c(2.75573137070700676789e-06);
  private static final DoubleVector S5 = c(-2.50507602534068634195e-08);
  private static final DoubleVector S6 = c(1.58969099521155010221e-10);
  private static final DoubleVector C1 = c(4.16666666666666019037e-02);
  private static final DoubleVector C2 = c(-1.38888888888741095749e-03);
  private static final DoubleVector C3 = c(2.48015872894767294178e-05);
  private static final DoubleVector C4 = c(-2.75573143513906633035e-07);
  private static final DoubleVector C5 = c(2.08757232129817482790e-09);
  private static final DoubleVector C6 = c(-1.13596475577881948265e-11);
  private static final DoubleVector ONE_D = c(1.0);
  private static final long SQRT_HALF_BITS = Double.doubleToRawLongBits(0.70710678118654752440);
  private static final long MANTISSA = (1L << 52) - 1;
  private static final DoubleVector L3 = c(1.0 / 3);
  private static final DoubleVector L5 = c(1.0 / 5);
  private static final DoubleVector L7 = c(1.0 / 7);
  private static final DoubleVector L9 = c(1.0 / 9);
  private static final DoubleVector L11 = c(1.0 / 11);
  private static final DoubleVector L13 = c(1.0 / 13);
  // exp(r) = 1 + r + ... + r^11/11!: the remainder is below 1e-12 for |r| <= ln2/2
  private static final DoubleVector T2 = c(1.0 / 2);
  private static final DoubleVector T3 = c(1.0 / 6);
  private static final DoubleVector T4 = c(1.0 / 24);
  private static final DoubleVector T5 = c(1.0 / 120);
  private static final DoubleVector T6 = c(1.0 / 720);
  private static final DoubleVector T7 = c(1.0 / 5040);
  private static final DoubleVector T8 = c(1.0 / 40320);
  private static final DoubleVector T9 = c(1.0 / 362880);
  private static final DoubleVector T10 = c(1.0 / 3628800);
  private static final DoubleVector T11 = c(1.0 / 39916800);
  private static final double LN2_HI = 6.93147180369123816490e-01; // fdlibm ln2_hi: e * LN2_HI is exact
  private static final double LN2_LO = 1.90821492927058770002e-10;
  private static final double LOG2E_D = 1.4426950408889634;

  private static DoubleVector c(double v) {
    return DoubleVector.broadcast(D, v);
  }
}
