package dev.kiln.runtime;

import static dev.kiln.runtime.VectorMath.F;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * What a generated Fused loop ({@link FusedCodegen}) calls rather than emits: the set-up of a block
 * (vector length, a single value broadcast, the mask of the last partial vector) and the careful
 * fallbacks of exp and sigmoid for lanes outside their fast range, kept out of line (rare).
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
}
