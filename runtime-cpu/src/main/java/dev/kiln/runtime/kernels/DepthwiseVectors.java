package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** {@link DepthwiseConv}'s channel loop on the Vector API; only loaded when {@link VectorSupport#AVAILABLE}. */
final class DepthwiseVectors {
  private DepthwiseVectors() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /** acc[ao..ao+n) += a[xo..] * b[bo..], each element rounded as the scalar loop rounds it (no fused multiply-add). */
  static void fma(float[] acc, int ao, float[] a, int xo, float[] b, int bo, int n) {
    int bound = F.loopBound(n);
    int i = 0;
    for (; i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, xo + i).mul(FloatVector.fromArray(F, b, bo + i))
          .add(FloatVector.fromArray(F, acc, ao + i)).intoArray(acc, ao + i);
    }
    for (; i < n; i++) {
      acc[ao + i] += a[xo + i] * b[bo + i];
    }
  }
}
