package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API polynomials against java.lang.Math, in ulps of the exact (double) result. */
class VectorMathTest {
  private static final List<UnaryKernels.Op> OPS = List.of(UnaryKernels.Op.EXP, UnaryKernels.Op.TANH, UnaryKernels.Op.SIGMOID);

  private static double ref(UnaryKernels.Op op, double x) {
    return switch (op) {
      case EXP -> Math.exp(x);
      case TANH -> Math.tanh(x);
      default -> 1 / (1 + Math.exp(-x));
    };
  }

  private static int maxUlps(UnaryKernels.Op op) {
    return switch (op) {
      case EXP -> 2;
      case TANH -> 3;
      default -> 4;
    };
  }

  @Test
  void floatWithinDocumentedUlps() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    Random r = new Random(1);
    int n = 200_003;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (i % 3 == 0 ? (r.nextDouble() - 0.5) * 4 : (r.nextDouble() - 0.55) * 190);
    }
    float[] y = new float[n];
    for (UnaryKernels.Op op : OPS) {
      VectorMath.f32(op, x, 0, y, 0, n);
      for (int i = 0; i < n; i++) {
        float want = (float) ref(op, x[i]);
        if (want == y[i]) {
          continue;
        }
        float ulp = Math.max(Math.ulp(want), Float.MIN_NORMAL * Math.ulp(1f)); // subnormals: one step
        assertTrue(Math.abs(y[i] - want) <= maxUlps(op) * ulp,
            op + "(" + x[i] + ") = " + y[i] + ", expected " + want);
      }
    }
  }

  @Test
  void doubleWithinDocumentedUlps() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    Random r = new Random(2);
    int n = 100_001;
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = i % 3 == 0 ? (r.nextDouble() - 0.5) * 4 : (r.nextDouble() - 0.5) * 1400;
    }
    double[] y = new double[n];
    for (UnaryKernels.Op op : OPS) {
      VectorMath.f64(op, x, 0, y, 0, n);
      for (int i = 0; i < n; i++) {
        double want = ref(op, x[i]);
        if (want == y[i]) {
          continue;
        }
        double ulp = Math.max(Math.ulp(want), Double.MIN_VALUE);
        assertTrue(Math.abs(y[i] - want) <= maxUlps(op) * ulp, op + "(" + x[i] + ") = " + y[i] + ", expected " + want);
      }
    }
  }

  @Test
  void specialValues() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 100f, -200f};
    float[] y = new float[x.length];
    VectorMath.f32(UnaryKernels.Op.EXP, x, 0, y, 0, x.length);
    assertEquals(List.of(Float.NaN, Float.POSITIVE_INFINITY, 0f, 1f, 1f, Float.POSITIVE_INFINITY, 0f), boxed(y));
    VectorMath.f32(UnaryKernels.Op.TANH, x, 0, y, 0, x.length);
    assertEquals(List.of(Float.NaN, 1f, -1f, 0f, -0f, 1f, -1f), boxed(y));
    VectorMath.f32(UnaryKernels.Op.SIGMOID, x, 0, y, 0, x.length);
    assertEquals(List.of(Float.NaN, 1f, 0f, 0.5f, 0.5f, 1f, 0f), boxed(y));
  }

  private static List<Float> boxed(float[] a) {
    Float[] b = new Float[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i];
    }
    return List.of(b);
  }
}
