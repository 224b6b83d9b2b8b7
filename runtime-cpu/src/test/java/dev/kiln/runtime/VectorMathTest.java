package dev.kiln.runtime;

import dev.kiln.runtime.kernels.ArithmeticKernels;
import dev.kiln.runtime.kernels.UnaryKernels;
import dev.kiln.runtime.kernels.VectorArithmetic;
import dev.kiln.runtime.kernels.VectorMath;
import dev.kiln.runtime.kernels.VectorSupport;
import dev.kiln.runtime.kernels.WideVectorMath;

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

  // ------------------------------------------------------------- log, sin, cos, pow (double lanes)

  /** Within one float ulp of the double result, and NaN exactly where it is NaN. */
  private static void assertWithinOneUlp(String what, float got, double exact) {
    float want = (float) exact;
    if (Float.isNaN(want) || Float.isInfinite(want) || want == 0) {
      assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got), what + ": expected " + want + " got " + got);
      return;
    }
    assertTrue(Math.abs(got - exact) <= Math.ulp(want), what + ": expected " + exact + " got " + got);
  }

  private static float[] everyKthFloat(int k) {
    // Every k-th bit pattern of the positive floats (zero to infinity, denormals included), then
    // the same negated, then the special values.
    java.util.List<Float> v = new java.util.ArrayList<>();
    for (long bits = 0; bits <= Float.floatToIntBits(Float.POSITIVE_INFINITY); bits += k) {
      v.add(Float.intBitsToFloat((int) bits));
      v.add(-Float.intBitsToFloat((int) bits));
    }
    v.addAll(List.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
        -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f, 524287.97f, 524288f));
    float[] a = new float[v.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = v.get(i);
    }
    return a;
  }

  @Test
  void logSinCosAreWithinOneUlpOverTheWholeFloatRange() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    float[] x = everyKthFloat(8191);
    float[] y = new float[x.length + 3];
    for (UnaryKernels.Op op : List.of(UnaryKernels.Op.LOG, UnaryKernels.Op.SIN, UnaryKernels.Op.COS)) {
      VectorMath.f32(op, x, 0, y, 3, x.length); // an output offset: lanes and tails do not line up
      for (int i = 0; i < x.length; i++) {
        double exact = switch (op) {
          case LOG -> Math.log(x[i]);
          case SIN -> Math.sin(x[i]);
          default -> Math.cos(x[i]);
        };
        assertWithinOneUlp(op + "(" + x[i] + ")", y[i + 3], exact);
      }
    }
  }

  @Test
  void logSpecialValuesAreMathsExactly() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    float[] x = {Float.NaN, -1f, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, 1f};
    float[] y = new float[x.length];
    VectorMath.f32(UnaryKernels.Op.LOG, x, 0, y, 0, x.length);
    assertEquals(List.of(Float.NaN, Float.NaN, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY,
        Float.NaN, -103.27893f, 0f), boxed(y));
  }

  @Test
  void sinAndCosNearMultiplesOfHalfPi() {
    // The floats nearest k pi/2 and their neighbours, where the reduced argument cancels most: up to
    // past the vector range (|x| < 2^19), beyond which lanes go through Math.
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    int kmax = 340_000; // 2^19 is about 333,800 pi/2
    float[] x = new float[3 * kmax];
    for (int k = 1; k <= kmax; k++) {
      float f = (float) (k * Math.PI / 2);
      x[3 * k - 3] = Math.nextDown(f);
      x[3 * k - 2] = f;
      x[3 * k - 1] = -Math.nextUp(f);
    }
    float[] s = new float[x.length];
    float[] c = new float[x.length];
    VectorMath.f32(UnaryKernels.Op.SIN, x, 0, s, 0, x.length);
    VectorMath.f32(UnaryKernels.Op.COS, x, 0, c, 0, x.length);
    for (int i = 0; i < x.length; i++) {
      assertWithinOneUlp("sin(" + x[i] + ")", s[i], Math.sin(x[i]));
      assertWithinOneUlp("cos(" + x[i] + ")", c[i], Math.cos(x[i]));
    }
  }

  @Test
  void powIsWithinOneUlpAndMathsOwnForSpecialCases() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    float[] specials = {0f, -0f, 1f, -1f, 2f, -2f, 0.5f, -0.5f, 3f, -3f, 1e-45f, 1e30f, Float.NaN,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 127.5f, -128f, 1e10f};
    int ns = specials.length;
    Random r = new Random(4);
    int n = ns * ns + 50_000;
    float[] a = new float[n];
    float[] b = new float[n];
    for (int i = 0; i < ns * ns; i++) {
      a[i] = specials[i / ns];
      b[i] = specials[i % ns];
    }
    for (int i = ns * ns; i < n; i++) {
      a[i] = (float) Math.exp((r.nextDouble() - 0.5) * 200); // 1e-43 .. 1e43
      b[i] = (float) ((r.nextDouble() - 0.5) * (i % 2 == 0 ? 4 : 60));
    }
    float[] o = new float[n];
    WideVectorMath.pow(ArithmeticKernels.VV, a, 0, b, 0, o, 0, n);
    for (int i = 0; i < n; i++) {
      assertWithinOneUlp("pow(" + a[i] + ", " + b[i] + ")", o[i], Math.pow(a[i], b[i]));
    }
    // A uniform base or exponent (the fused kernel's scalar operands).
    WideVectorMath.pow(ArithmeticKernels.VS, a, ns * ns, b, 7, o, 0, 1000);
    WideVectorMath.pow(ArithmeticKernels.SV, a, 3, b, ns * ns, o, 1000, 1000);
    for (int i = 0; i < 1000; i++) {
      assertWithinOneUlp("VS " + i, o[i], Math.pow(a[ns * ns + i], b[7]));
      assertWithinOneUlp("SV " + i, o[1000 + i], Math.pow(a[3], b[ns * ns + i]));
    }
  }
}
