package dev.kiln.runtime;

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

/**
 * Conv2D (and depthwise), its two backprops, pooling and BiasAdd against float64 loops written here
 * from TensorFlow's definitions, in float32 (the im2col + sgemm kernels) and float64; gradients
 * through GradientChecker.
 */
class ConvKernelsTest {

  /**
   * One convolution: input [n,h,w,c] (logical NHWC), filter [kh,kw,c/groups,k]; pads are what TF's
   * padding gives, computed here: {top, bottom, left, right}.
   */
  record Case(String name, int n, int h, int w, int c, int kh, int kw, int fc, int k, int sh, int sw, int dh, int dw,
      String padding, int[] explicit, boolean nchw) {
    @Override
    public String toString() {
      return name;
    }

    int groups() {
      return c / fc;
    }

    int[] pads() {
      if (padding.equals("EXPLICIT")) {
        return explicit;
      }
      if (padding.equals("VALID")) {
        return new int[4];
      }
      int[] p = new int[4];
      int[][] dims = {{h, kh, sh, dh}, {w, kw, sw, dw}};
      for (int a = 0; a < 2; a++) {
        int in = dims[a][0];
        int eff = (dims[a][1] - 1) * dims[a][3] + 1;
        int out = (in + dims[a][2] - 1) / dims[a][2];
        int total = Math.max((out - 1) * dims[a][2] + eff - in, 0);
        p[2 * a] = total / 2;
        p[2 * a + 1] = total - total / 2;
      }
      return p;
    }

    int oh() {
      int[] p = pads();
      return (h + p[0] + p[1] - ((kh - 1) * dh + 1)) / sh + 1;
    }

    int ow() {
      int[] p = pads();
      return (w + p[2] + p[3] - ((kw - 1) * dw + 1)) / sw + 1;
    }

    int[] inDims() {
      return nchw ? new int[] {n, c, h, w} : new int[] {n, h, w, c};
    }

    int[] outDims() {
      return nchw ? new int[] {n, k, oh(), ow()} : new int[] {n, oh(), ow(), k};
    }

    int in(int b, int y, int x, int ch) {
      return nchw ? ((b * c + ch) * h + y) * w + x : ((b * h + y) * w + x) * c + ch;
    }

    int out(int b, int y, int x, int ch) {
      return nchw ? ((b * k + ch) * oh() + y) * ow() + x : ((b * oh() + y) * ow() + x) * k + ch;
    }

    String format() {
      return nchw ? "NCHW" : "NHWC";
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("3x3 SAME", 2, 7, 6, 3, 3, 3, 3, 4, 1, 1, 1, 1, "SAME", null, false),
        new Case("4x4 stride 2 SAME (asymmetric padding)", 2, 7, 8, 3, 4, 4, 3, 5, 2, 2, 1, 1, "SAME", null, false),
        new Case("VALID strides 2,3", 2, 9, 10, 2, 3, 2, 2, 3, 2, 3, 1, 1, "VALID", null, false),
        new Case("dilations 2 SAME", 1, 8, 7, 3, 3, 3, 3, 2, 1, 1, 2, 2, "SAME", null, false),
        new Case("explicit paddings 1,2,0,3 stride 2", 2, 6, 5, 2, 3, 3, 2, 4, 2, 2, 1, 1, "EXPLICIT",
            new int[] {1, 2, 0, 3}, false),
        new Case("2 groups", 2, 6, 6, 4, 3, 3, 2, 6, 1, 1, 1, 1, "SAME", null, false),
        new Case("depthwise-like 3 groups", 1, 5, 5, 3, 3, 3, 1, 6, 1, 1, 1, 1, "SAME", null, false),
        new Case("NCHW stride 2 SAME", 2, 7, 6, 3, 3, 3, 3, 4, 2, 2, 1, 1, "SAME", null, true),
        new Case("NCHW 2 groups dilated", 1, 8, 8, 4, 2, 3, 2, 4, 1, 2, 2, 1, "VALID", null, true),
        new Case("1x1", 3, 4, 5, 6, 1, 1, 6, 7, 1, 1, 1, 1, "VALID", null, false),
        new Case("5x5 SAME batch 20 (several blocks over the cores)", 20, 14, 14, 8, 5, 5, 8, 16, 1, 1, 1, 1, "SAME", null,
            false),
        new Case("5x5 SAME one channel batch 27 (blocks over the cores)", 27, 14, 13, 1, 5, 5, 1, 16, 1, 1, 1, 1, "SAME",
            null, false),
        new Case("3x3 stride 2 NCHW batch 9 (blocks over the cores)", 9, 16, 15, 16, 3, 3, 16, 24, 2, 2, 1, 1, "SAME",
            null, true),
        new Case("depthwise 19 channels stride 2 SAME batch 12 (parts over the cores)", 12, 14, 13, 19, 3, 3, 1, 19,
            2, 2, 1, 1, "SAME", null, false),
        new Case("depthwise multiplier 3 dilated VALID", 2, 9, 8, 5, 3, 2, 1, 15, 1, 1, 2, 1, "VALID", null, false),
        new Case("1x1 batch 40 (blocks over the cores)", 40, 12, 12, 32, 1, 1, 32, 24, 1, 1, 1, 1, "VALID", null, false));
  }

  // ---------------------------------------------------------------- float64 references

  static double[] refConv(Case t, double[] x, double[] f) {
    double[] y = new double[t.n * t.oh() * t.ow() * t.k];
    int[] p = t.pads();
    int kg = t.k / t.groups();
    for (int b = 0; b < t.n; b++) {
      for (int oy = 0; oy < t.oh(); oy++) {
        for (int ox = 0; ox < t.ow(); ox++) {
          for (int ko = 0; ko < t.k; ko++) {
            int group = ko / kg;
            double s = 0;
            for (int i = 0; i < t.kh; i++) {
              for (int j = 0; j < t.kw; j++) {
                int iy = oy * t.sh - p[0] + i * t.dh;
                int ix = ox * t.sw - p[2] + j * t.dw;
                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) {
                  continue;
                }
                for (int q = 0; q < t.fc; q++) {
                  s += x[t.in(b, iy, ix, group * t.fc + q)] * f[((i * t.kw + j) * t.fc + q) * t.k + ko];
                }
              }
            }
            y[t.out(b, oy, ox, ko)] = s;
          }
        }
      }
    }
    return y;
  }

  /** d sum(conv(x, f) * r) / dx and / df, by the chain rule over the same sum. */
  static double[][] refGradients(Case t, double[] x, double[] f, double[] r) {
    double[] dx = new double[x.length];
    double[] df = new double[f.length];
    int[] p = t.pads();
    int kg = t.k / t.groups();
    for (int b = 0; b < t.n; b++) {
      for (int oy = 0; oy < t.oh(); oy++) {
        for (int ox = 0; ox < t.ow(); ox++) {
          for (int ko = 0; ko < t.k; ko++) {
            int group = ko / kg;
            double g = r[t.out(b, oy, ox, ko)];
            for (int i = 0; i < t.kh; i++) {
              for (int j = 0; j < t.kw; j++) {
                int iy = oy * t.sh - p[0] + i * t.dh;
                int ix = ox * t.sw - p[2] + j * t.dw;
                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) {
                  continue;
                }
                for (int q = 0; q < t.fc; q++) {
                  int xi = t.in(b, iy, ix, group * t.fc + q);
                  int fi = ((i * t.kw + j) * t.fc + q) * t.k + ko;
                  dx[xi] += g * f[fi];
                  df[fi] += g * x[xi];
                }
              }
            }
          }
        }
      }
    }
    return new double[][] {dx, df};
  }

  static double[] random(Random rnd, int size) {
    double[] v = new double[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return v;
  }

  static float[] floats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  static Tensor tensor(DType d, double[] v, int... dims) {
    return d == DType.FLOAT32 ? Tensor.of(floats(v), dims) : Tensor.of(v, dims);
  }

  static void assertClose(double[] expected, double[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i]));
      if (!(err <= tol)) {
        throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
      }
    }
  }

  private static int[] strides(Case t) {
    return t.nchw ? new int[] {1, 1, t.sh, t.sw} : new int[] {1, t.sh, t.sw, 1};
  }

  private static Output conv(Ops tf, Case t, Output x, Output f) {
    return tf.conv2d(x, f, strides(t), t.padding, new int[] {t.dh, t.dw},
        t.explicit == null ? new int[0] : t.explicit, t.format());
  }

  // ---------------------------------------------------------------- values

  @ParameterizedTest
  @MethodSource("cases")
  void forwardAndBothBackpropsMatchTheReference(Case t) {
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      Random rnd = new Random(7);
      double[] x = random(rnd, t.n * t.h * t.w * t.c);
      double[] f = random(rnd, t.kh * t.kw * t.fc * t.k);
      double[] r = random(rnd, t.n * t.oh() * t.ow() * t.k);
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output xp = tf.placeholder("x", d, Shape.of(t.inDims()));
      Output fp = tf.placeholder("f", d, Shape.of(t.kh, t.kw, t.fc, t.k));
      Output rp = tf.placeholder("r", d, Shape.of(t.outDims()));
      Output y = conv(tf, t, xp, fp);
      assertEquals(Shape.of(t.outDims()), y.shape());
      List<Output> grads = tf.gradients(tf.reduceSum(tf.mul(y, rp)), xp, fp);
      try (Session s = new Session(g)) {
        List<Tensor> out = s.run(Map.of(xp, tensor(d, x, t.inDims()), fp, tensor(d, f, t.kh, t.kw, t.fc, t.k),
            rp, tensor(d, r, t.outDims())), y, grads.get(0), grads.get(1));
        // float32 sums of up to a few hundred products in whatever order the kernel (oneDNN's or Kiln's) takes
        double tol = d == DType.FLOAT32 ? 1e-4 : 1e-12;
        double[][] ref = refGradients(t, x, f, r);
        assertClose(refConv(t, x, f), out.get(0).toDoubleArray(), tol, t + " " + d + " forward");
        assertClose(ref[0], out.get(1).toDoubleArray(), tol, t + " " + d + " backprop input");
        assertClose(ref[1], out.get(2).toDoubleArray(), tol * 4, t + " " + d + " backprop filter");
      }
    }
  }

  @Test
  void depthwiseConv2dIsTensorFlowsChannelMultiplierLayout() {
    int n = 2;
    int h = 5;
    int w = 6;
    int c = 3;
    int m = 2;
    Random rnd = new Random(3);
    double[] x = random(rnd, n * h * w * c);
    double[] f = random(rnd, 3 * 3 * c * m);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(n, h, w, c));
    Output fp = tf.placeholder("f", DType.FLOAT32, Shape.of(3, 3, c, m));
    Output y = tf.depthwiseConv2d(xp, fp, new int[] {2, 2}, "SAME");
    int oh = 3;
    int ow = 3;
    assertEquals(Shape.of(n, oh, ow, c * m), y.shape());
    // TF: y[b,i,j,k*M+q] = sum_{di,dj} x[b, 2i+di-pad, 2j+dj-pad, k] * f[di,dj,k,q]; SAME pads 1 row above
    // (height 5: 2 rows in all) and no column to the left (width 6: 1 column in all, after).
    double[] expected = new double[n * oh * ow * c * m];
    for (int b = 0; b < n; b++) {
      for (int i = 0; i < oh; i++) {
        for (int j = 0; j < ow; j++) {
          for (int k = 0; k < c; k++) {
            for (int q = 0; q < m; q++) {
              double s = 0;
              for (int di = 0; di < 3; di++) {
                for (int dj = 0; dj < 3; dj++) {
                  int yy = 2 * i + di - 1;
                  int xx = 2 * j + dj;
                  if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                    s += x[((b * h + yy) * w + xx) * c + k] * f[((di * 3 + dj) * c + k) * m + q];
                  }
                }
              }
              expected[(((b * oh + i) * ow + j) * c + k) * m + q] = s;
            }
          }
        }
      }
    }
    try (Session s = new Session(g)) {
      Tensor out = s.run(Map.of(xp, tensor(DType.FLOAT32, x, n, h, w, c), fp, tensor(DType.FLOAT32, f, 3, 3, c, m)), y)
          .get(0);
      assertClose(expected, out.toDoubleArray(), 2e-5, "depthwise");
    }
  }

  @Test
  void transposedConvolutionIsTheAdjointOfConvolution() {
    // <conv(x, f), r> == <x, conv2dTranspose(r, f)> for every x, r.
    Case t = cases().toList().get(1);
    Random rnd = new Random(11);
    double[] x = random(rnd, t.n * t.h * t.w * t.c);
    double[] f = random(rnd, t.kh * t.kw * t.fc * t.k);
    double[] r = random(rnd, t.n * t.oh() * t.ow() * t.k);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output rp = tf.placeholder("r", DType.FLOAT64, Shape.of(-1, t.oh(), t.ow(), t.k));
    Output fp = tf.placeholder("f", DType.FLOAT64, Shape.of(t.kh, t.kw, t.fc, t.k));
    Output up = tf.conv2dTranspose(rp, fp, Shape.of(-1, t.h, t.w, t.c), new int[] {t.sh, t.sw}, "SAME");
    assertEquals(Shape.of(-1, t.h, t.w, t.c), up.shape());
    try (Session s = new Session(g)) {
      double[] tr = s.run(Map.of(rp, Tensor.of(r, t.outDims()), fp, Tensor.of(f, t.kh, t.kw, t.fc, t.k)), up).get(0)
          .toDoubleArray();
      double lhs = 0;
      double[] y = refConv(t, x, f);
      for (int i = 0; i < y.length; i++) {
        lhs += y[i] * r[i];
      }
      double rhs = 0;
      for (int i = 0; i < x.length; i++) {
        rhs += x[i] * tr[i];
      }
      assertEquals(lhs, rhs, 1e-9 * Math.abs(lhs));
    }
  }

  // ---------------------------------------------------------------- gradients

  @ParameterizedTest
  @MethodSource("cases")
  void convolutionGradientsPassTheChecker(Case t) {
    if (t.n * t.h * t.w * t.c > 500) {
      return; // the checker differentiates every element twice: the small cases cover the same code
    }
    Random rnd = new Random(5);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output xp = tf.placeholder("x", DType.FLOAT64, Shape.of(t.inDims()));
    Output fp = tf.placeholder("f", DType.FLOAT64, Shape.of(t.kh, t.kw, t.fc, t.k));
    Output y = conv(tf, t, xp, fp);
    GradientChecker.check(y, Map.of(xp, Tensor.of(random(rnd, t.n * t.h * t.w * t.c), t.inDims()),
        fp, Tensor.of(random(rnd, t.kh * t.kw * t.fc * t.k), t.kh, t.kw, t.fc, t.k))).assertWithin(1e-7);
  }

  @Test
  void backpropGradientsPassTheChecker() {
    // Second derivatives: the gradient of each backprop op (through a transposed convolution and
    // through the filter gradient).
    Case t = cases().toList().get(4);
    Random rnd = new Random(9);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output rp = tf.placeholder("r", DType.FLOAT64, Shape.of(t.outDims()));
    Output fp = tf.placeholder("f", DType.FLOAT64, Shape.of(t.kh, t.kw, t.fc, t.k));
    Output xp = tf.placeholder("x", DType.FLOAT64, Shape.of(t.inDims()));
    Output y = conv(tf, t, xp, fp);
    List<Output> grads = tf.gradients(List.of(y), List.of(xp, fp), List.of(rp));
    Map<Output, Tensor> feeds = Map.of(rp, Tensor.of(random(rnd, t.n * t.oh() * t.ow() * t.k), t.outDims()),
        fp, Tensor.of(random(rnd, t.kh * t.kw * t.fc * t.k), t.kh, t.kw, t.fc, t.k),
        xp, Tensor.of(random(rnd, t.n * t.h * t.w * t.c), t.inDims()));
    GradientChecker.check(grads.get(0), Map.of(rp, feeds.get(rp), fp, feeds.get(fp)), Map.of(xp, feeds.get(xp)))
        .assertWithin(1e-7);
    GradientChecker.check(grads.get(1), Map.of(rp, feeds.get(rp), xp, feeds.get(xp)), Map.of(fp, feeds.get(fp)))
        .assertWithin(1e-7);
  }
}
