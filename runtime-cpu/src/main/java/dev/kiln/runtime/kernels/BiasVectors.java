package dev.kiln.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adds a bias to each row of a row-major matrix (and applies relu) in one vectorized pass: the
 * epilogue of a fused product or convolution, whose rows are a product's rows or an NHWC output's
 * pixels. C2 vectorizes neither the fused scalar loop nor well the row-wise bias add. Only loaded when
 * {@link VectorSupport#AVAILABLE}.
 */
public final class BiasVectors {
  private BiasVectors() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

  /** Rows [lo, hi) of the [*, n] matrix c: c = c + b, then max(c, 0) when {@code relu}. */
  public static void f32(float[] c, float[] b, int lo, int hi, int n, boolean relu) {
    FloatVector zero = FloatVector.zero(F);
    int bound = F.loopBound(n);
    for (int i = lo; i < hi; i++) {
      int r = i * n;
      int j = 0;
      for (; j < bound; j += F.length()) {
        FloatVector v = FloatVector.fromArray(F, c, r + j)
            .add(FloatVector.fromArray(F, b, j));
        (relu ? v.max(zero) : v).intoArray(c, r + j);
      }
      for (; j < n; j++) {
        float v = c[r + j] + b[j];
        c[r + j] = relu ? Math.max(v, 0f) : v;
      }
    }
  }

  /** {@link #f32} in double precision. */
  public static void f64(double[] c, double[] b, int lo, int hi, int n, boolean relu) {
    DoubleVector zero = DoubleVector.zero(D);
    int bound = D.loopBound(n);
    for (int i = lo; i < hi; i++) {
      int r = i * n;
      int j = 0;
      for (; j < bound; j += D.length()) {
        DoubleVector v = DoubleVector.fromArray(D, c, r + j)
            .add(DoubleVector.fromArray(D, b, j));
        (relu ? v.max(zero) : v).intoArray(c, r + j);
      }
      for (; j < n; j++) {
        double v = c[r + j] + b[j];
        c[r + j] = relu ? Math.max(v, 0.0) : v;
      }
    }
  }
}
