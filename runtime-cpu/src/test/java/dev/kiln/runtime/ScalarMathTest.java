package dev.kiln.runtime;

import dev.kiln.runtime.kernels.ArithmeticKernels;
import dev.kiln.runtime.kernels.ScalarArithmetic;
import dev.kiln.runtime.kernels.ScalarMath;
import dev.kiln.runtime.kernels.SegmentedReduction;
import dev.kiln.runtime.kernels.UnaryKernels;
import dev.kiln.runtime.kernels.VectorMath;
import dev.kiln.runtime.kernels.VectorSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The loops that run without the Vector API: ScalarMath (exp, sigmoid, tanh) gives VectorMath's bits
 * (so a run is the same with and without --add-modules jdk.incubator.vector) and keeps VectorMath's
 * documented accuracy; ScalarArithmetic gives the library's loops' bits; the short sum is a sum.
 */
class ScalarMathTest {
  private static final List<UnaryKernels.Op> OPS = List.of(UnaryKernels.Op.EXP, UnaryKernels.Op.SIGMOID, UnaryKernels.Op.TANH);

  /**
   * Rows of 1,024 (a fused block) that reach every way through ScalarMath: small, middle and large
   * |x| (the three codes for 2^k), the edges of the fast ranges (8.8, 9, 80, 87) and past them,
   * zeros, subnormals, infinities and NaN, each kind alone in a row and mixed into others.
   */
  private static List<float[]> rows() {
    Random r = new Random(7);
    List<float[]> rows = new ArrayList<>();
    for (double scale : new double[] {0.5, 2, 4, 6, 9, 15, 25, 40, 60, 85}) {
      float[] row = new float[1024];
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) (r.nextGaussian() * scale / 3);
      }
      rows.add(row);
    }
    float[] edges = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, -1e-38f, 4.4f, -4.39f,
        8.79f, -8.8f, 8.99f, -9f, 9.01f, 10f, -10.01f, 20f, 21.4f, -31f, 79.9f, -80f, 86.9f, -86.99f, 87f, -87.2f,
        88.7f, -88.73f, 89f, -100f, -103.9f, -104f, 120f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN};
    for (float e : edges) {
      float[] row = new float[1024];
      for (int i = 0; i < row.length; i++) {
        row[i] = (float) r.nextGaussian();
      }
      row[r.nextInt(row.length)] = e;
      rows.add(row);
    }
    rows.add(edges.clone());
    // Every 20,011th float bit pattern, positive and negative, in rows of 1,024.
    List<Float> all = new ArrayList<>();
    for (long bits = 0; bits <= 0x7f800001L; bits += 20_011) {
      all.add(Float.intBitsToFloat((int) bits));
      all.add(-Float.intBitsToFloat((int) bits));
    }
    for (int from = 0; from < all.size(); from += 1024) {
      float[] row = new float[Math.min(1024, all.size() - from)];
      for (int i = 0; i < row.length; i++) {
        row[i] = all.get(from + i);
      }
      rows.add(row);
    }
    return rows;
  }

  private static void scalar(UnaryKernels.Op op, float c, float[] x, int xo, float[] y, int yo, int n) {
    if (op == UnaryKernels.Op.EXP) {
      ScalarMath.expScaled(x, xo, c, y, yo, n);
    } else {
      ScalarMath.f32(op, x, xo, y, yo, n);
    }
  }

  private static void vector(UnaryKernels.Op op, float c, float[] x, float[] y) {
    if (op == UnaryKernels.Op.EXP) {
      VectorMath.expScaledF32(x, 0, c, y, 0, x.length);
    } else {
      VectorMath.f32(op, x, 0, y, 0, x.length);
    }
  }

  private static void assertSameBits(float[] want, float[] got, int from, String what) {
    for (int i = 0; i < want.length; i++) {
      assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[from + i]),
          what + " element " + i + ": VectorMath " + want[i] + ", ScalarMath " + got[from + i]);
    }
  }

  @Test
  void givesVectorMathsBitsAtAnyOffsetAndInPlace() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    for (UnaryKernels.Op op : OPS) {
      for (float c : op == UnaryKernels.Op.EXP ? new float[] {1f, 0.5f, -3.1f} : new float[] {1f}) {
        for (float[] x : rows()) {
          String what = op + (c != 1f ? " * " + c : "") + " of " + java.util.Arrays.toString(java.util.Arrays.copyOf(x, 4));
          float[] want = new float[x.length];
          vector(op, c, x, want);
          float[] y = new float[x.length];
          scalar(op, c, x, 0, y, 0, x.length);
          assertSameBits(want, y, 0, what);
          // at offsets (copied to scratch and back), and in place
          float[] shifted = new float[x.length + 5];
          System.arraycopy(x, 0, shifted, 3, x.length);
          float[] out = new float[x.length + 7];
          scalar(op, c, shifted, 3, out, 6, x.length);
          assertSameBits(want, out, 6, what + " at offsets");
          scalar(op, c, shifted, 3, shifted, 3, x.length);
          assertSameBits(want, shifted, 3, what + " in place at an offset");
          float[] same = x.clone();
          scalar(op, c, same, 0, same, 0, x.length);
          assertSameBits(want, same, 0, what + " in place");
        }
      }
    }
  }

  @Test
  void longRowsAndShortOnesGiveVectorMathsBits() {
    assumeTrue(VectorSupport.AVAILABLE, "needs --add-modules jdk.incubator.vector");
    Random r = new Random(8);
    for (int n : new int[] {0, 1, 7, 33, 4095, 4096, 4097, 20_000}) {
      float[] x = new float[n];
      for (int i = 0; i < n; i++) {
        x[i] = (float) (r.nextGaussian() * 6);
      }
      for (UnaryKernels.Op op : OPS) {
        float[] want = new float[n];
        vector(op, 1f, x, want);
        float[] y = new float[n];
        scalar(op, 1f, x, 0, y, 0, n);
        assertSameBits(want, y, 0, op + " of " + n);
      }
    }
  }

  private static double exact(UnaryKernels.Op op, double x) {
    return switch (op) {
      case EXP -> Math.exp(x);
      case TANH -> Math.tanh(x);
      default -> 1 / (1 + Math.exp(-x));
    };
  }

  /** VectorMath's documented accuracy (VectorMathTest), here without needing the Vector API. */
  @Test
  void withinVectorMathsDocumentedUlps() {
    Random r = new Random(1);
    int n = 200_003;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (i % 3 == 0 ? (r.nextDouble() - 0.5) * 4 : (r.nextDouble() - 0.55) * 190);
    }
    float[] y = new float[n];
    for (UnaryKernels.Op op : OPS) {
      int maxUlps = switch (op) {
        case EXP -> 2;
        case TANH -> 3;
        default -> 4;
      };
      // rows of a fused block's length, as the kernels call it
      for (int from = 0; from < n; from += 1024) {
        scalar(op, 1f, x, from, y, from, Math.min(1024, n - from));
      }
      for (int i = 0; i < n; i++) {
        float want = (float) exact(op, x[i]);
        if (want == y[i]) {
          continue;
        }
        float ulp = Math.max(Math.ulp(want), Float.MIN_NORMAL * Math.ulp(1f));
        assertTrue(Math.abs(y[i] - want) <= maxUlps * ulp, op + "(" + x[i] + ") = " + y[i] + ", expected " + want);
      }
    }
  }

  @Test
  void specialValuesAsVectorMathDocumentsThem() {
    float[] x = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 100f, -200f};
    float[] y = new float[x.length];
    ScalarMath.expScaled(x, 0, 1f, y, 0, x.length);
    assertEquals(List.of(Float.NaN, Float.POSITIVE_INFINITY, 0f, 1f, 1f, Float.POSITIVE_INFINITY, 0f), boxed(y));
    ScalarMath.tanh(x, 0, y, 0, x.length);
    assertEquals(List.of(Float.NaN, 1f, -1f, 0f, -0f, 1f, -1f), boxed(y));
    ScalarMath.sigmoid(x, 0, y, 0, x.length);
    assertEquals(List.of(Float.NaN, 1f, 0f, 0.5f, 0.5f, 1f, 0f), boxed(y));
    // a zero in a row of ordinary values keeps its sign too
    float[] row = {0.5f, -0f, 1f, 2f};
    ScalarMath.tanh(row, 0, row, 0, row.length);
    assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(row[1]));
  }

  private static List<Float> boxed(float[] a) {
    List<Float> b = new ArrayList<>();
    for (float v : a) {
      b.add(v);
    }
    return b;
  }

  @Test
  void plainArithmeticEqualsTheLibraryLoopsBitForBit() {
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
      for (int kind : new int[] {ArithmeticKernels.VV, ArithmeticKernels.VS, ArithmeticKernels.SV}) {
        ScalarArithmetic.Binary plain = ScalarArithmetic.binary(op, kind);
        if (plain == null) {
          continue;
        }
        ArithmeticKernels.f32(op, kind, a, 0, b, 0, want, 0, n);
        plain.run(a, b, got, n);
        for (int i = 0; i < n; i++) {
          assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), op + " kind " + kind + " at " + i);
        }
      }
    }
    for (UnaryKernels.Op op : UnaryKernels.Op.values()) {
      ScalarArithmetic.Unary plain = ScalarArithmetic.unary(op);
      if (plain == null) {
        continue;
      }
      UnaryKernels.f32(op, a, 0, want, 0, n);
      plain.run(a, got, n);
      for (int i = 0; i < n; i++) {
        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), op + " at " + i);
      }
    }
    // the fused pairs: (-a) * b and a * b + c, as their two rows compute them
    float[] neg = new float[n];
    UnaryKernels.f32(UnaryKernels.Op.NEG, a, 0, neg, 0, n);
    ArithmeticKernels.f32(ArithmeticKernels.Op.MUL, ArithmeticKernels.VV, neg, 0, b, 0, want, 0, n);
    ScalarArithmetic.negMul(a, b, got, n);
    for (int i = 0; i < n; i++) {
      assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "(-a) * b at " + i);
    }
    float[] product = new float[n];
    ArithmeticKernels.f32(ArithmeticKernels.Op.MUL, ArithmeticKernels.VV, a, 0, b, 0, product, 0, n);
    ArithmeticKernels.f32(ArithmeticKernels.Op.SUB, ArithmeticKernels.VS, product, 0, new float[] {1.7f}, 0, want, 0, n);
    ScalarArithmetic.mulAdd(a, b, -1.7f, got, n);
    for (int i = 0; i < n; i++) {
      assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), "a * b - c at " + i);
    }
  }

  @Test
  void shortSumsAddEveryElement() {
    Random r = new Random(4);
    for (int n : new int[] {0, 1, 7, 8, 9, 1000, 1024}) {
      float[] a = new float[n + 3];
      double exact = 0;
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) r.nextGaussian();
        if (i >= 3) {
          exact += a[i];
        }
      }
      assertEquals(exact, SegmentedReduction.sumShort(a, 3, n), 1e-5 * Math.sqrt(n + 1), "n = " + n);
    }
  }
}
