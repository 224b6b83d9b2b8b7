package dev.kiln.runtime;

import static dev.kiln.runtime.ConvKernelsTest.assertClose;
import static dev.kiln.runtime.ConvKernelsTest.random;
import static dev.kiln.runtime.ConvKernelsTest.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** MaxPool, AvgPool (and their gradients) and BiasAdd against float64 loops written here. */
class PoolKernelsTest {

  record Case(String name, int n, int h, int w, int c, int kh, int kw, int sh, int sw, String padding, boolean nchw) {
    @Override
    public String toString() {
      return name;
    }

    int oh() {
      return padding.equals("SAME") ? (h + sh - 1) / sh : (h - kh) / sh + 1;
    }

    int ow() {
      return padding.equals("SAME") ? (w + sw - 1) / sw : (w - kw) / sw + 1;
    }

    int padTop() {
      return padding.equals("SAME") ? Math.max((oh() - 1) * sh + kh - h, 0) / 2 : 0;
    }

    int padLeft() {
      return padding.equals("SAME") ? Math.max((ow() - 1) * sw + kw - w, 0) / 2 : 0;
    }

    int[] inDims() {
      return nchw ? new int[] {n, c, h, w} : new int[] {n, h, w, c};
    }

    int[] outDims() {
      return nchw ? new int[] {n, c, oh(), ow()} : new int[] {n, oh(), ow(), c};
    }

    int in(int b, int y, int x, int ch) {
      return nchw ? ((b * c + ch) * h + y) * w + x : ((b * h + y) * w + x) * c + ch;
    }

    int out(int b, int y, int x, int ch) {
      return nchw ? ((b * c + ch) * oh() + y) * ow() + x : ((b * oh() + y) * ow() + x) * c + ch;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("2x2 stride 2 VALID", 2, 6, 8, 3, 2, 2, 2, 2, "VALID", false),
        new Case("3x3 stride 2 SAME (odd sizes)", 2, 7, 5, 3, 3, 3, 2, 2, "SAME", false),
        new Case("3x2 stride 1,2 SAME", 1, 5, 6, 2, 3, 2, 1, 2, "SAME", false),
        new Case("NCHW 3x3 stride 2 SAME", 2, 7, 6, 3, 3, 3, 2, 2, "SAME", true));
  }

  /** {max, avg} of every window, over its elements inside the input. */
  static double[][] refPool(Case t, double[] x) {
    double[] mx = new double[t.n * t.oh() * t.ow() * t.c];
    double[] av = new double[mx.length];
    for (int b = 0; b < t.n; b++) {
      for (int oy = 0; oy < t.oh(); oy++) {
        for (int ox = 0; ox < t.ow(); ox++) {
          for (int ch = 0; ch < t.c; ch++) {
            double m = Double.NEGATIVE_INFINITY;
            double s = 0;
            int count = 0;
            for (int i = 0; i < t.kh; i++) {
              for (int j = 0; j < t.kw; j++) {
                int y = oy * t.sh - t.padTop() + i;
                int xx = ox * t.sw - t.padLeft() + j;
                if (y >= 0 && y < t.h && xx >= 0 && xx < t.w) {
                  double v = x[t.in(b, y, xx, ch)];
                  m = Math.max(m, v);
                  s += v;
                  count++;
                }
              }
            }
            mx[t.out(b, oy, ox, ch)] = m;
            av[t.out(b, oy, ox, ch)] = s / count;
          }
        }
      }
    }
    return new double[][] {mx, av};
  }

  private static int[] four(Case t, int h, int w) {
    return t.nchw ? new int[] {1, 1, h, w} : new int[] {1, h, w, 1};
  }

  @ParameterizedTest
  @MethodSource("cases")
  void poolingMatchesTheReference(Case t) {
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      Random rnd = new Random(1);
      double[] x = random(rnd, t.n * t.h * t.w * t.c);
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output xp = tf.placeholder("x", d, Shape.of(t.inDims()));
      String f = t.nchw ? "NCHW" : "NHWC";
      Output mx = tf.maxPool(xp, four(t, t.kh, t.kw), four(t, t.sh, t.sw), t.padding, f);
      Output av = tf.avgPool(xp, four(t, t.kh, t.kw), four(t, t.sh, t.sw), t.padding, f);
      assertEquals(Shape.of(t.outDims()), mx.shape());
      try (Session s = new Session(g)) {
        List<Tensor> out = s.run(Map.of(xp, tensor(d, x, t.inDims())), mx, av);
        double[][] ref = refPool(t, x);
        double tol = d == DType.FLOAT32 ? 1e-6 : 1e-14;
        assertClose(ref[0], out.get(0).toDoubleArray(), tol, t + " max");
        assertClose(ref[1], out.get(1).toDoubleArray(), tol, t + " avg");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void poolingGradientsPassTheChecker(Case t) {
    Random rnd = new Random(2);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output xp = tf.placeholder("x", DType.FLOAT64, Shape.of(t.inDims()));
    String f = t.nchw ? "NCHW" : "NHWC";
    // Distinct values keep every maximum away from a tie, where max is not differentiable.
    double[] x = new double[t.n * t.h * t.w * t.c];
    for (int i = 0; i < x.length; i++) {
      x[i] = i * 0.01 + rnd.nextInt(1000);
    }
    Tensor xv = Tensor.of(x, t.inDims());
    Output mx = tf.maxPool(xp, new int[] {t.kh, t.kw}, new int[] {t.sh, t.sw}, t.padding, f);
    GradientChecker.check(mx, Map.of(xp, xv)).assertWithin(1e-7);
    Output av = tf.avgPool(xp, new int[] {t.kh, t.kw}, new int[] {t.sh, t.sw}, t.padding, f);
    // Values up to 1000 leave central differences about 1e-7 of rounding.
    GradientChecker.check(av, Map.of(xp, xv)).assertWithin(1e-6);
    // AvgPoolGrad's own gradient (the pooling again).
    Output r = tf.placeholder("r", DType.FLOAT64, Shape.of(t.outDims()));
    Output avGrad = tf.gradients(List.of(av), List.of(xp), List.of(r)).get(0);
    GradientChecker.check(avGrad, Map.of(r, Tensor.of(random(rnd, t.n * t.oh() * t.ow() * t.c), t.outDims())),
        Map.of(xp, xv)).assertWithin(1e-7);
  }

  @Test
  void maxPoolGradientGoesToTheFirstMaximumOfAWindow() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 2, 2, 1));
    Output mx = tf.maxPool(xp, new int[] {2, 2}, new int[] {2, 2}, "VALID");
    Output dx = tf.gradients(mx, xp).get(0);
    try (Session s = new Session(g)) {
      float[] got = s.run(Map.of(xp, Tensor.of(new float[] {1, 3, 3, 2}, 1, 2, 2, 1)), dx).get(0).toFloatArray();
      assertEquals(List.of(0f, 1f, 0f, 0f), List.of(got[0], got[1], got[2], got[3]));
    }
  }

  static Stream<Case> wideCases() {
    return Stream.of(
        new Case("3x3 stride 2 SAME, 37 channels (vectors and a tail)", 3, 9, 7, 37, 3, 3, 2, 2, "SAME", false),
        new Case("2x2 stride 2 SAME 28x28x32 batch 16 (parts over the cores)", 16, 28, 28, 32, 2, 2, 2, 2, "SAME", false),
        new Case("3x2 stride 1 VALID, 16 channels", 2, 6, 5, 16, 3, 2, 1, 1, "VALID", false));
  }

  /**
   * Float32 max pooling and its gradient on wide channel counts, with ties (small integers) and NaNs,
   * against float64 loops: each output's gradient goes to the first maximum of its window, a NaN
   * counting as larger than any number (TensorFlow's rule).
   */
  @ParameterizedTest
  @MethodSource("wideCases")
  void float32MaxPoolAndItsGradientMatchTheReferenceWithTiesAndNaNs(Case t) {
    Random rnd = new Random(5);
    double[] x = new double[t.n * t.h * t.w * t.c];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(5) - 2;
    }
    double[] dy = random(rnd, t.n * t.oh() * t.ow() * t.c);
    double[] expectedDx = new double[x.length];
    for (int b = 0; b < t.n; b++) {
      for (int oy = 0; oy < t.oh(); oy++) {
        for (int ox = 0; ox < t.ow(); ox++) {
          for (int ch = 0; ch < t.c; ch++) {
            int at = -1;
            for (int i = 0; i < t.kh; i++) {
              for (int j = 0; j < t.kw; j++) {
                int y = oy * t.sh - t.padTop() + i;
                int xx = ox * t.sw - t.padLeft() + j;
                if (y < 0 || y >= t.h || xx < 0 || xx >= t.w) {
                  continue;
                }
                int e = t.in(b, y, xx, ch);
                if (at < 0 || x[e] > x[at] || (Double.isNaN(x[e]) && !Double.isNaN(x[at]))) {
                  at = e;
                }
              }
            }
            expectedDx[at] += dy[t.out(b, oy, ox, ch)];
          }
        }
      }
    }
    double[] expectedY = refPool(t, x)[0];
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(t.inDims()));
    Output dyp = tf.placeholder("dy", DType.FLOAT32, Shape.of(t.outDims()));
    Output mx = tf.maxPool(xp, new int[] {t.kh, t.kw}, new int[] {t.sh, t.sw}, t.padding);
    Output dx = tf.gradients(List.of(mx), List.of(xp), List.of(dyp)).get(0);
    try (Session s = new Session(g)) {
      Map<Output, Tensor> feeds = Map.of(xp, tensor(DType.FLOAT32, x, t.inDims()), dyp, tensor(DType.FLOAT32, dy, t.outDims()));
      List<Tensor> out = s.run(feeds, mx, dx);
      assertClose(expectedY, out.get(0).toDoubleArray(), 0, t + " max");
      assertClose(expectedDx, out.get(1).toDoubleArray(), 1e-6, t + " max gradient");
      // NaNs: one in a window of each image, in channel 0 and in the last channel.
      double[] withNaN = x.clone();
      for (int b = 0; b < t.n; b++) {
        withNaN[t.in(b, 1, 1, 0)] = Double.NaN;
        withNaN[t.in(b, 2, 1, t.c - 1)] = Double.NaN;
      }
      double[] dxNaN = new double[x.length];
      for (int b = 0; b < t.n; b++) {
        for (int oy = 0; oy < t.oh(); oy++) {
          for (int ox = 0; ox < t.ow(); ox++) {
            for (int ch = 0; ch < t.c; ch++) {
              int at = -1;
              for (int i = 0; i < t.kh; i++) {
                for (int j = 0; j < t.kw; j++) {
                  int y = oy * t.sh - t.padTop() + i;
                  int xx = ox * t.sw - t.padLeft() + j;
                  if (y < 0 || y >= t.h || xx < 0 || xx >= t.w) {
                    continue;
                  }
                  int e = t.in(b, y, xx, ch);
                  if (at < 0 || withNaN[e] > withNaN[at] || (Double.isNaN(withNaN[e]) && !Double.isNaN(withNaN[at]))) {
                    at = e;
                  }
                }
              }
              dxNaN[at] += dy[t.out(b, oy, ox, ch)];
            }
          }
        }
      }
      Tensor got = s.run(Map.of(xp, tensor(DType.FLOAT32, withNaN, t.inDims()), dyp, feeds.get(dyp)), dx).get(0);
      assertClose(dxNaN, got.toDoubleArray(), 1e-6, t + " max gradient with NaNs");
    }
  }

  static Stream<Case> planeCases() {
    return Stream.of(
        new Case("NCHW 2x2 stride 2 VALID 28x28 (a row of 14 outputs)", 2, 28, 28, 3, 2, 2, 2, 2, "VALID", true),
        new Case("NCHW 2x2 stride 2 SAME 9x37 (last column cut, a vector and a tail)", 2, 9, 37, 3, 2, 2, 2, 2, "SAME", true),
        new Case("NCHW 3x3 stride 2 SAME 11x41 (both edges cut)", 1, 11, 41, 2, 3, 3, 2, 2, "SAME", true),
        new Case("NCHW 4x4 stride 2 VALID 6x73 (even window, odd width)", 1, 6, 73, 2, 4, 4, 2, 2, "VALID", true),
        new Case("NCHW 3x3 stride 1 SAME 7x35", 2, 7, 35, 2, 3, 3, 1, 1, "SAME", true),
        new Case("NCHW 3x2 stride 2,1 VALID 8x40", 1, 8, 40, 3, 3, 2, 2, 1, "VALID", true),
        new Case("NCHW 2x3 stride 3 SAME 10x50 (stride past the vector path)", 1, 10, 50, 2, 2, 3, 3, 3, "SAME", true),
        new Case("NCHW 5x5 stride 2 SAME 3x4 (windows wider than the input)", 1, 3, 4, 2, 5, 5, 2, 2, "SAME", true),
        new Case("NCHW 2x2 stride 2 VALID 28x28x32 batch 8 (parts over the cores)", 8, 28, 28, 32, 2, 2, 2, 2, "VALID", true));
  }

  /**
   * Float32 NCHW max and average pooling against float32 loops written here that take a window's valid
   * elements in row-major order (so sums round alike and the comparison is exact), on ties, NaNs and
   * signed zeros for max and Gaussian values for both.
   */
  @ParameterizedTest
  @MethodSource("planeCases")
  void float32NchwPoolingMatchesRowMajorFloatLoopsExactly(Case t) {
    Random rnd = new Random(6);
    int size = t.n * t.c * t.h * t.w;
    double[] ties = new double[size];
    for (int i = 0; i < size; i++) {
      int v = rnd.nextInt(7);
      ties[i] = v == 0 ? Double.NaN : v == 1 ? -0.0 : v - 4;
    }
    for (double[] x : List.of(ties, random(rnd, size))) {
      float[] xf = new float[size];
      for (int i = 0; i < size; i++) {
        xf[i] = (float) x[i];
      }
      int outSize = t.n * t.c * t.oh() * t.ow();
      float[] mx = new float[outSize];
      float[] av = new float[outSize];
      for (int b = 0; b < t.n; b++) {
        for (int ch = 0; ch < t.c; ch++) {
          for (int oy = 0; oy < t.oh(); oy++) {
            for (int ox = 0; ox < t.ow(); ox++) {
              float m = Float.NEGATIVE_INFINITY;
              float sum = 0;
              int count = 0;
              for (int i = 0; i < t.kh; i++) {
                for (int j = 0; j < t.kw; j++) {
                  int y = oy * t.sh - t.padTop() + i;
                  int xx = ox * t.sw - t.padLeft() + j;
                  if (y >= 0 && y < t.h && xx >= 0 && xx < t.w) {
                    float v = xf[t.in(b, y, xx, ch)];
                    m = Float.isNaN(v) || v > m || (v == 0 && m == 0 && Float.floatToIntBits(m) != 0) ? v : m;
                    sum += v;
                    count++;
                  }
                }
              }
              mx[t.out(b, oy, ox, ch)] = m;
              av[t.out(b, oy, ox, ch)] = sum * (float) (1.0 / count);
            }
          }
        }
      }
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(t.inDims()));
      Output mxOut = tf.maxPool(xp, four(t, t.kh, t.kw), four(t, t.sh, t.sw), t.padding, "NCHW");
      Output avOut = tf.avgPool(xp, four(t, t.kh, t.kw), four(t, t.sh, t.sw), t.padding, "NCHW");
      try (Session s = new Session(g)) {
        List<Tensor> out = s.run(Map.of(xp, Tensor.of(xf, t.inDims())), mxOut, avOut);
        assertSameFloats(mx, out.get(0).toFloatArray(), t + " max");
        assertSameFloats(av, out.get(1).toFloatArray(), t + " avg");
      }
    }
  }

  /** Equal as Float.equals has it: NaN equals NaN, -0.0 differs from 0.0. */
  private static void assertSameFloats(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (Float.compare(expected[i], actual[i]) != 0) {
        throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void biasAddMatchesTheReferenceAndItsGradientIsTheColumnSum(Case t) {
    Random rnd = new Random(4);
    double[] x = random(rnd, t.n * t.h * t.w * t.c);
    double[] b = random(rnd, t.c);
    double[] expected = new double[x.length];
    for (int n = 0; n < t.n; n++) {
      for (int y = 0; y < t.h; y++) {
        for (int xx = 0; xx < t.w; xx++) {
          for (int ch = 0; ch < t.c; ch++) {
            expected[t.in(n, y, xx, ch)] = x[t.in(n, y, xx, ch)] + b[ch];
          }
        }
      }
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    String f = t.nchw ? "NCHW" : "NHWC";
    Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(t.inDims()));
    Output bp = tf.placeholder("b", DType.FLOAT32, Shape.of(t.c));
    Output y = tf.biasAdd(xp, bp, f);
    try (Session s = new Session(g)) {
      Tensor out = s.run(Map.of(xp, tensor(DType.FLOAT32, x, t.inDims()), bp, tensor(DType.FLOAT32, b, t.c)), y).get(0);
      assertClose(expected, out.toDoubleArray(), 1e-6, t + " biasAdd");
    }
    Output x64 = tf.placeholder("x64", DType.FLOAT64, Shape.of(t.inDims()));
    Output b64 = tf.placeholder("b64", DType.FLOAT64, Shape.of(t.c));
    GradientChecker.check(tf.biasAdd(x64, b64, f), Map.of(x64, Tensor.of(x, t.inDims()), b64, Tensor.of(b, t.c)))
        .assertWithin(1e-8);
  }
}
