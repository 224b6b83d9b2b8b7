package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, sigmoid and tanh over array ranges with the Vector API, as polynomial approximations built
 * only from IEEE add/mul/fma/div/compare (so the result is bit-identical in the interpreter and in
 * C2-compiled code, and runs are deterministic; the JDK's SVML-backed lanewise(EXP) is not: its
 * interpreted fallback rounds differently). Float log, sin and cos go to {@link WideVectorMath}.
 * Only loaded when {@link VectorSupport#AVAILABLE}; {@link ScalarMath} computes the float exp, sigmoid
 * and tanh below with the same operations without the Vector API (FloatExp's constants).
 *
 * <p>Float: exp is Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, and Cephes' expf polynomial,
 * scaled by 2^k; sigmoid = 1/(1 + exp(-x)); tanh = u/(u + 2) with u = expm1(2x) from the same
 * polynomial (no cancellation near 0). Each vector takes that fast path when all its lanes have a
 * normal float result (one compare); a vector with other lanes (NaN, overflow, subnormal results)
 * recomputes just those lanes carefully (2^k in two steps, e/(1+e) for sigmoid), so a lane's value
 * does not depend on its neighbours. Max error against Math, measured over every 300th float of
 * [-120, 100]: exp 1.0 ulp, sigmoid 2.3, tanh 2.5 (VectorMathTest checks 2, 4, 3).
 *
 * <p>Double: exp is the same reduction with a degree-13 Taylor polynomial (2 ulp over [-700, 700]);
 * tanh uses Cephes' rational function below 0.625 and 1 - 2/(e^2x + 1) above; sigmoid = 1/(1+e^-x).
 * NaN propagates; +-inf give the limits.
 */
public final class VectorMath {
  private VectorMath() {}

  public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

  /** True for the unary ops this class computes. */
  public static boolean handles(UnaryKernels.Op op) {
    return switch (op) {
      case EXP, SIGMOID, TANH -> true;
      default -> false;
    };
  }

  /** True for the unary ops this class computes on floats: those above and log, sin, cos. */
  public static boolean handlesF32(UnaryKernels.Op op) {
    return switch (op) {
      case EXP, SIGMOID, TANH, LOG, SIN, COS -> true;
      default -> false;
    };
  }

  public static void f32(UnaryKernels.Op op, float[] x, int xo, float[] y, int yo, int n) {
    switch (op) {
      case EXP -> expF32(x, xo, y, yo, n);
      case SIGMOID -> sigmoidF32(x, xo, y, yo, n);
      case TANH -> tanhF32(x, xo, y, yo, n);
      case LOG -> WideVectorMath.log(x, xo, y, yo, n);
      case SIN -> WideVectorMath.sin(x, xo, y, yo, n);
      case COS -> WideVectorMath.cos(x, xo, y, yo, n);
      default -> throw new AssertionError(op);
    }
  }

  public static void f64(UnaryKernels.Op op, double[] x, int xo, double[] y, int yo, int n) {
    switch (op) {
      case EXP -> expF64(x, xo, y, yo, n);
      case SIGMOID -> sigmoidF64(x, xo, y, yo, n);
      case TANH -> tanhF64(x, xo, y, yo, n);
      default -> throw new AssertionError(op);
    }
  }

  // Each loop body is written out flat (no helper returning a vector): C2 only keeps vectors in
  // registers when everything is inlined, and a big helper compiled on its own is not.

  // Float exp, sigmoid and tanh: a fast formula for every lane, good wherever the result is a normal
  // float (the common case, tested per vector with one compare); the rare vector with a lane outside
  // that range (NaN, overflow, results in the subnormal range) recomputes those lanes with the
  // careful formula and blends them in. A lane's value never depends on its neighbours.

  // The rows run two vectors per step (expPairs...), then one at a time for the rest with a mask:
  // the two dependency chains interleaved keep more of the core busy (about 15% faster); each loop
  // is a method of its own, small enough for C1 and C2 to compile.

  private static void expF32(float[] x, int xo, float[] y, int yo, int n) {
    expScaledF32(x, xo, 1f, y, yo, n);
  }

  /**
   * y = exp(x) * c, rounded twice as an exp row and a multiplication row would (a fused body's
   * exp(..) * constant in one row); c = 1 is plain exp (multiplying by 1 changes no float).
   */
  public static void expScaledF32(float[] x, int xo, float c, float[] y, int yo, int n) {
    FloatVector scale = FloatVector.broadcast(F, c);
    int i = expPairs(x, xo, scale, y, yo, n);
    expTail(x, xo + i, scale, y, yo + i, n - i);
  }

  private static int expPairs(float[] x, int xo, FloatVector scale, float[] y, int yo, int n) {
    int i = 0;
    for (int step = 2 * F.length(); i <= n - step; i += step) {
      FloatVector v = FloatVector.fromArray(F, x, xo + i);
      FloatVector w = FloatVector.fromArray(F, x, xo + i + F.length());
      FloatVector kv = v.fma(LOG2E, ROUND);
      FloatVector kw = w.fma(LOG2E, ROUND);
      FloatVector fv = kv.sub(ROUND_F);
      FloatVector fw = kw.sub(ROUND_F);
      FloatVector rv = fv.fma(NC2, fv.fma(NC1, v));
      FloatVector rw = fw.fma(NC2, fw.fma(NC1, w));
      FloatVector pv = rv.fma(P4, P3).fma(rv, P2).fma(rv, P1);
      FloatVector pw = rw.fma(P4, P3).fma(rw, P2).fma(rw, P1);
      pv = pv.fma(rv, P0).fma(rv.mul(rv), rv).add(1f);
      pw = pw.fma(rw, P0).fma(rw.mul(rw), rw).add(1f);
      FloatVector ev = pv.mul(kv.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      FloatVector ew = pw.mul(kw.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      VectorMask<Float> nv = v.abs().compare(VectorOperators.LT, 87f);
      VectorMask<Float> nw = w.abs().compare(VectorOperators.LT, 87f);
      if (!nv.and(nw).allTrue()) {
        ev = ev.blend(expCareful(v), nv.not());
        ew = ew.blend(expCareful(w), nw.not());
      }
      ev.mul(scale).intoArray(y, yo + i);
      ew.mul(scale).intoArray(y, yo + i + F.length());
    }
    return i;
  }

  private static void expTail(float[] x, int xo, FloatVector scale, float[] y, int yo, int n) {
    for (int i = 0; i < n; i += F.length()) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(F, x, xo + i, m);
      // 2^k * exp(r), x = k ln2 + r, |r| <= ln2/2 (Cody-Waite, fused multiply-adds: exact IEEE, deterministic)
      FloatVector kr = v.fma(LOG2E, ROUND);
      FloatVector k = kr.sub(ROUND_F);
      FloatVector r = k.fma(NC2, k.fma(NC1, v));
      FloatVector p = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r).add(1f);
      FloatVector e = p.mul(kr.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      VectorMask<Float> normal = v.abs().compare(VectorOperators.LT, 87f);
      if (!normal.allTrue()) {
        e = e.blend(expCareful(v), normal.not());
      }
      e.mul(scale).intoArray(y, yo + i, m);
    }
  }

  private static void sigmoidF32(float[] x, int xo, float[] y, int yo, int n) {
    int i = sigmoidPairs(x, xo, y, yo, n);
    sigmoidTail(x, xo + i, y, yo + i, n - i);
  }

  private static int sigmoidPairs(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int step = 2 * F.length(); i <= n - step; i += step) {
      FloatVector v = FloatVector.fromArray(F, x, xo + i);
      FloatVector w = FloatVector.fromArray(F, x, xo + i + F.length());
      FloatVector tv = v.neg();
      FloatVector tw = w.neg();
      FloatVector kv = tv.fma(LOG2E, ROUND);
      FloatVector kw = tw.fma(LOG2E, ROUND);
      FloatVector fv = kv.sub(ROUND_F);
      FloatVector fw = kw.sub(ROUND_F);
      FloatVector rv = fv.fma(NC2, fv.fma(NC1, tv));
      FloatVector rw = fw.fma(NC2, fw.fma(NC1, tw));
      FloatVector pv = rv.fma(P4, P3).fma(rv, P2).fma(rv, P1);
      FloatVector pw = rw.fma(P4, P3).fma(rw, P2).fma(rw, P1);
      pv = pv.fma(rv, P0).fma(rv.mul(rv), rv).add(1f);
      pw = pw.fma(rw, P0).fma(rw.mul(rw), rw).add(1f);
      FloatVector ev = pv.mul(kv.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      FloatVector ew = pw.mul(kw.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      FloatVector sv = ONE.div(ev.add(1f));
      FloatVector sw = ONE.div(ew.add(1f));
      VectorMask<Float> nv = v.abs().compare(VectorOperators.LT, 87f);
      VectorMask<Float> nw = w.abs().compare(VectorOperators.LT, 87f);
      if (!nv.and(nw).allTrue()) {
        sv = sv.blend(sigmoidCareful(v), nv.not());
        sw = sw.blend(sigmoidCareful(w), nw.not());
      }
      sv.intoArray(y, yo + i);
      sw.intoArray(y, yo + i + F.length());
    }
    return i;
  }

  private static void sigmoidTail(float[] x, int xo, float[] y, int yo, int n) {
    for (int i = 0; i < n; i += F.length()) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(F, x, xo + i, m);
      // 1 / (1 + exp(-x)), exp as in expF32
      FloatVector t = v.neg();
      FloatVector kr = t.fma(LOG2E, ROUND);
      FloatVector k = kr.sub(ROUND_F);
      FloatVector r = k.fma(NC2, k.fma(NC1, t));
      FloatVector p = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r).add(1f);
      FloatVector e = p.mul(kr.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      FloatVector s = ONE.div(e.add(1f));
      VectorMask<Float> normal = v.abs().compare(VectorOperators.LT, 87f);
      if (!normal.allTrue()) {
        s = s.blend(sigmoidCareful(v), normal.not());
      }
      s.intoArray(y, yo + i, m);
    }
  }

  private static void tanhF32(float[] x, int xo, float[] y, int yo, int n) {
    int i = tanhPairs(x, xo, y, yo, n);
    tanhTail(x, xo + i, y, yo + i, n - i);
  }

  private static int tanhPairs(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int step = 2 * F.length(); i <= n - step; i += step) {
      FloatVector v = FloatVector.fromArray(F, x, xo + i);
      FloatVector w = FloatVector.fromArray(F, x, xo + i + F.length());
      FloatVector tv = v.add(v);
      FloatVector tw = w.add(w);
      FloatVector kv = tv.fma(LOG2E, ROUND);
      FloatVector kw = tw.fma(LOG2E, ROUND);
      FloatVector fv = kv.sub(ROUND_F);
      FloatVector fw = kw.sub(ROUND_F);
      FloatVector rv = fv.fma(NC2, fv.fma(NC1, tv));
      FloatVector rw = fw.fma(NC2, fw.fma(NC1, tw));
      FloatVector pv = rv.fma(P4, P3).fma(rv, P2).fma(rv, P1);
      FloatVector pw = rw.fma(P4, P3).fma(rw, P2).fma(rw, P1);
      pv = pv.fma(rv, P0).fma(rv.mul(rv), rv);
      pw = pw.fma(rw, P0).fma(rw.mul(rw), rw);
      FloatVector sv = kv.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
      FloatVector sw = kw.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
      FloatVector uv = sv.fma(pv, sv.sub(1f));
      FloatVector uw = sw.fma(pw, sw.sub(1f));
      FloatVector yv = uv.div(uv.add(2f)).blend(v, v.compare(VectorOperators.EQ, 0f));
      FloatVector yw = uw.div(uw.add(2f)).blend(w, w.compare(VectorOperators.EQ, 0f));
      if (!v.abs().compare(VectorOperators.LT, 9f).and(w.abs().compare(VectorOperators.LT, 9f)).allTrue()) {
        yv = tanhCareful(v);
        yw = tanhCareful(w);
      }
      yv.intoArray(y, yo + i);
      yw.intoArray(y, yo + i + F.length());
    }
    return i;
  }

  private static void tanhTail(float[] x, int xo, float[] y, int yo, int n) {
    for (int i = 0; i < n; i += F.length()) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(F, x, xo + i, m);
      // tanh x = u / (u + 2), u = expm1(2x) = 2^k (expm1(r) + 1) - 1 = fma(2^k, expm1(r), 2^k - 1): no
      // cancellation near 0 (k = 0 gives u = expm1(r)), so no separate small-x branch; +-0 keep their
      // sign. For |x| < 9 (no clamp: Java's max/min cost as much as a third of the row).
      FloatVector t = v.add(v);
      FloatVector kr = t.fma(LOG2E, ROUND);
      FloatVector k = kr.sub(ROUND_F);
      FloatVector r = k.fma(NC2, k.fma(NC1, t));
      FloatVector em1 = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r);
      FloatVector s = kr.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
      FloatVector u = s.fma(em1, s.sub(1f));
      FloatVector th = u.div(u.add(2f)).blend(v, v.compare(VectorOperators.EQ, 0f));
      if (!v.abs().compare(VectorOperators.LT, 9f).or(m.not()).allTrue()) {
        th = tanhCareful(v);
      }
      th.intoArray(y, yo + i, m);
    }
  }

  // The careful formulas, for the rare vector with a lane whose result is not a normal float. Kept
  // out of the hot loops (small methods compile reliably; a call here may box, which is fine).

  /** exp with 2^k applied in two steps, so results near overflow and in the subnormal range are right; NaN stays. */
  public static FloatVector expCareful(FloatVector v) {
    FloatVector xc = v.max(-104f).min(89f);
    FloatVector kr = xc.fma(LOG2E, ROUND);
    FloatVector k = kr.sub(ROUND_F);
    FloatVector r = k.fma(NC2, k.fma(NC1, xc));
    FloatVector p = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r).add(1f);
    IntVector ki = kr.reinterpretAsInts().sub(ROUND_BITS); // k sits in the low mantissa bits of k + R
    IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
    FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    FloatVector s2 = ki.sub(k1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return p.mul(s1).mul(s2).blend(v, v.test(VectorOperators.IS_NAN));
  }

  /** tanh with 2x clamped to +-20, where tanh rounds to +-1 (NaN passes the clamp). */
  public static FloatVector tanhCareful(FloatVector v) {
    FloatVector t = v.add(v).max(-20f).min(20f);
    FloatVector kr = t.fma(LOG2E, ROUND);
    FloatVector k = kr.sub(ROUND_F);
    FloatVector r = k.fma(NC2, k.fma(NC1, t));
    FloatVector em1 = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r);
    FloatVector s = kr.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    FloatVector u = s.fma(em1, s.sub(1f));
    return u.div(u.add(2f)).blend(v, v.compare(VectorOperators.EQ, 0f));
  }

  /** e = exp(-|x|) never overflows: 1/(1+e) for x >= 0, e/(1+e) below (keeps tiny results exact). */
  public static FloatVector sigmoidCareful(FloatVector v) {
    FloatVector e = expCareful(v.abs().neg());
    FloatVector num = e.blend(1f, v.compare(VectorOperators.GE, 0f));
    return num.div(e.add(1f)).blend(v, v.test(VectorOperators.IS_NAN));
  }

  private static void expF64(double[] x, int xo, double[] y, int yo, int n) {
    for (int i = 0; i < n; i += D.length()) {
      VectorMask<Double> m = D.indexInRange(i, n);
      DoubleVector v = DoubleVector.fromArray(D, x, xo + i, m);
      expD(v).intoArray(y, yo + i, m);
    }
  }

  private static void sigmoidF64(double[] x, int xo, double[] y, int yo, int n) {
    for (int i = 0; i < n; i += D.length()) {
      VectorMask<Double> m = D.indexInRange(i, n);
      DoubleVector v = DoubleVector.fromArray(D, x, xo + i, m);
      DoubleVector e = expD(v.abs().neg());
      DoubleVector num = e.blend(1.0, v.compare(VectorOperators.GE, 0.0));
      num.div(e.add(1.0)).blend(v, v.test(VectorOperators.IS_NAN)).intoArray(y, yo + i, m);
    }
  }

  private static void tanhF64(double[] x, int xo, double[] y, int yo, int n) {
    for (int i = 0; i < n; i += D.length()) {
      VectorMask<Double> m = D.indexInRange(i, n);
      DoubleVector v = DoubleVector.fromArray(D, x, xo + i, m);
      DoubleVector a = v.abs();
      DoubleVector z = v.mul(v);
      DoubleVector p = z.mul(-9.64399179425052238628E-1).add(-9.92877231001918586564E1)
          .mul(z).add(-1.61468768441708447952E3);
      DoubleVector q = z.add(1.12811678491632931402E2).mul(z).add(2.23548839060100448583E3)
          .mul(z).add(4.84406305325125486048E3);
      DoubleVector small = z.mul(p.div(q)).mul(v).add(v);
      DoubleVector big = DoubleVector.broadcast(D, 1.0).sub(DoubleVector.broadcast(D, 2.0).div(expD(a.add(a)).add(1.0)));
      big = big.blend(big.neg(), v.compare(VectorOperators.LT, 0.0));
      VectorMask<Double> keep = v.test(VectorOperators.IS_NAN).or(v.compare(VectorOperators.EQ, 0.0));
      big.blend(small, a.compare(VectorOperators.LT, 0.625)).blend(v, keep).intoArray(y, yo + i, m);
    }
  }

  // ---------------------------------------------------------------------------------------- float

  // The constants are FloatExp's: ScalarMath evaluates the same polynomial without the Vector API.
  public static final float ROUND_F = FloatExp.ROUND;
  private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND_F);
  public static final FloatVector LOG2E = FloatVector.broadcast(F, FloatExp.LOG2E);
  public static final FloatVector ROUND = FloatVector.broadcast(F, ROUND_F);
  public static final FloatVector ONE = FloatVector.broadcast(F, 1f);
  // Added to the bits of k + R: (bits + SCALE_BIAS) << 23 is the float 2^k (|k| <= 126).
  public static final int SCALE_BIAS = 127 - ROUND_BITS;
  public static final FloatVector NC1 = FloatVector.broadcast(F, -FloatExp.C1);
  public static final FloatVector NC2 = FloatVector.broadcast(F, -FloatExp.C2);
  // exp(r) = 1 + r + r^2 (P0 + r (P1 + r (P2 + r (P3 + r P4)))), |r| <= ln2/2. Cephes' expf
  // polynomial, degree 7, is no more accurate in float and costs one more fma per exp.
  public static final FloatVector P0 = FloatVector.broadcast(F, FloatExp.P0);
  public static final FloatVector P1 = FloatVector.broadcast(F, FloatExp.P1);
  public static final FloatVector P2 = FloatVector.broadcast(F, FloatExp.P2);
  public static final FloatVector P3 = FloatVector.broadcast(F, FloatExp.P3);
  public static final FloatVector P4 = FloatVector.broadcast(F, FloatExp.P4);
  // Cephes tanhf, |x| < 0.625: x + x^3 (T4 + z (T3 + z (T2 + z (T1 + z T0)))), z = x^2
  private static final FloatVector T0 = FloatVector.broadcast(F, -5.70498872745E-3f);
  private static final FloatVector T1 = FloatVector.broadcast(F, 2.06390887954E-2f);
  private static final FloatVector T2 = FloatVector.broadcast(F, -5.37397155531E-2f);
  private static final FloatVector T3 = FloatVector.broadcast(F, 1.33314422036E-1f);
  private static final FloatVector T4 = FloatVector.broadcast(F, -3.33332819422E-1f);

  // --------------------------------------------------------------------------------------- double

  private static final double LOG2E_D = 1.4426950408889634;
  private static final double C1_D = 6.93145751953125E-1;
  private static final double C2_D = 1.42860682030941723212E-6;
  private static final double ROUND_D = 6755399441055744.0; // 1.5 * 2^52

  private static DoubleVector expD(DoubleVector x) {
    DoubleVector xc = x.max(-746.0).min(710.0);
    DoubleVector k = xc.mul(LOG2E_D).add(ROUND_D).sub(ROUND_D);
    DoubleVector r = xc.sub(k.mul(C1_D)).sub(k.mul(C2_D));
    // Taylor series to r^13/13!: the remainder is below 2^-60 for |r| <= ln2/2.
    DoubleVector p = r.mul(1.0 / 6227020800.0).add(1.0 / 479001600.0)
        .mul(r).add(1.0 / 39916800.0)
        .mul(r).add(1.0 / 3628800.0)
        .mul(r).add(1.0 / 362880.0)
        .mul(r).add(1.0 / 40320.0)
        .mul(r).add(1.0 / 5040.0)
        .mul(r).add(1.0 / 720.0)
        .mul(r).add(1.0 / 120.0)
        .mul(r).add(1.0 / 24.0)
        .mul(r).add(1.0 / 6.0)
        .mul(r).add(0.5)
        .mul(r).add(1.0)
        .mul(r).add(1.0);
    LongVector ki = (LongVector) k.convert(VectorOperators.D2L, 0);
    LongVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
    LongVector k2 = ki.sub(k1);
    DoubleVector s1 = k1.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
    DoubleVector s2 = k2.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
    return p.mul(s1).mul(s2).blend(x, x.test(VectorOperators.IS_NAN));
  }
}
