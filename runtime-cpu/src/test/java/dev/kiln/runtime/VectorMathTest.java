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

  @Test
  void vectorArithmeticEqualsTheLibraryLoopsBitForBit() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    Random r = new Random(3);
    int n = 1000;
    float[] a = new float[n];
    float[] b = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = i % 50 == 0 ? Float.NaN : i % 49 == 0 ? -0f : (float) (r.nextGaussian() * 3);
      b[i] = i % 47 == 0 ? 0f : i % 43 == 0 ? Float.POSITIVE_INFINITY : (float) (r.nextGaussian() * 3);
    }
    float[] want = new float[n];
    float[] got = new float[n];
    for (ArithmeticKernels.Op op : ArithmeticKernels.Op.values()) {
      if (!VectorArithmetic.handles(op)) {
        continue;
      }
      for (int kind : new int[] {ArithmeticKernels.VV, ArithmeticKernels.VS, ArithmeticKernels.SV}) {
        ArithmeticKernels.f32(op, kind, a, 3, b, 5, want, 0, n - 7);
        VectorArithmetic.f32(op, kind, a, 3, b, 5, got, 0, n - 7);
        for (int i = 0; i < n - 7; i++) {
          assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), op + " kind " + kind + " at " + i);
        }
      }
    }
    for (UnaryKernels.Op op : UnaryKernels.Op.values()) {
      if (!VectorArithmetic.handles(op)) {
        continue;
      }
      UnaryKernels.f32(op, a, 1, want, 0, n - 1);
      VectorArithmetic.f32(op, a, 1, got, 0, n - 1);
      for (int i = 0; i < n - 1; i++) {
        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), op + " at " + i);
      }
    }
  }
}
