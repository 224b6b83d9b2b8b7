package dev.kiln.runtime.fused;

import dev.kiln.runtime.kernels.VectorMath;

import static dev.kiln.runtime.kernels.VectorMath.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * What a generated Fused loop ({@link FusedCodegen}) calls rather than emits: the set-up of a block
 * (vector length, a single value broadcast, the mask of the last partial vector) and the careful
 * fallbacks of exp and sigmoid for lanes outside their fast range, kept out of line (rare), and the
 * rounding primitives.
 */
final class FusedVectorOps {
  private FusedVectorOps() {}

  static int length() {
    return F.length();
  }

  static VectorMask<Float> tail(int i, int n) {
    return F.indexInRange(i, n);
  }

  static FloatVector constant(float v) {
    return FloatVector.broadcast(F, v);
  }

  static FloatVector broadcast(float[] a, int o) {
    return FloatVector.broadcast(F, a[o]);
  }

  /** exp's lanes outside |x| < 87 (NaN, overflow, subnormal results) from the careful formula. */
  static FloatVector expFix(FloatVector x, FloatVector fast, VectorMask<Float> inRange) {
    return fast.blend(VectorMath.expCareful(x), inRange.not());
  }

  /** sigmoid's lanes outside |x| < 87 from the careful formula. */
  static FloatVector sigmoidFix(FloatVector x, FloatVector fast, VectorMask<Float> inRange) {
    return fast.blend(VectorMath.sigmoidCareful(x), inRange.not());
  }

  private static final float TWO_23 = 8388608f; // from here on every float is an integer

  /**
   * Math.rint of each lane (half to even): |x| + 2^23 rounds |x| to an integer in the default
   * rounding mode, the sign (and -0) put back; integers, infinities and NaN pass unchanged.
   */
  static FloatVector rint(FloatVector x) {
    FloatVector a = x.abs();
    FloatVector r = a.add(TWO_23).sub(TWO_23);
    FloatVector signed = r.reinterpretAsInts().or(x.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
    return x.blend(signed, a.compare(VectorOperators.LT, TWO_23));
  }

  /** Math.floor of each lane: rint, less one where that rounded up (rint keeps the sign, so floor(-0) = -0). */
  static FloatVector floor(FloatVector x) {
    FloatVector r = rint(x);
    return r.sub(1f, r.compare(VectorOperators.GT, x));
  }

  /** Math.ceil of each lane as -floor(-x), which gives -0 for x in (-1, 0) as Math.ceil does. */
  static FloatVector ceil(FloatVector x) {
    return floor(x.neg()).neg();
  }
}
