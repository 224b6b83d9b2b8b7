package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** BatchNorm and LayerNorm against float64 loops written here, and their gradients (GradientChecker). */
class NormOpsTest {
  static final int[] X = {2, 3, 4};
  static final int C = 4;
  static final int ROWS = 6;

  static Tensor positive(long seed, int n) {
    double[] v = ArrayOpsTest.random(seed, n).toDoubleArray();
    for (int i = 0; i < n; i++) {
      v[i] = 0.5 + Math.abs(v[i]);
    }
    return Tensor.of(v, n);
  }

  record Graph5(Graph g, Output x, Output scale, Output offset, Output mean, Output var) {
    static Graph5 make() {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      return new Graph5(g, tf.placeholder("x", DType.FLOAT64, Shape.of(X)),
          tf.placeholder("scale", DType.FLOAT64, Shape.of(C)), tf.placeholder("offset", DType.FLOAT64, Shape.of(C)),
          tf.placeholder("mean", DType.FLOAT64, Shape.of(C)), tf.placeholder("var", DType.FLOAT64, Shape.of(C)));
    }

    Map<Output, Tensor> feeds() {
      return Map.of(x, ArrayOpsTest.random(1, X), scale, ArrayOpsTest.random(2, C), offset, ArrayOpsTest.random(3, C),
          mean, ArrayOpsTest.random(4, C), var, positive(5, C));
    }
  }

  @Test
  void batchNormInTrainingUsesBatchStatistics() {
    Graph5 n = Graph5.make();
    Ops tf = Ops.create(n.g());
    List<Output> bn = tf.batchNorm(n.x(), n.scale(), n.offset(), n.mean(), n.var(), 1e-3, true);
    Map<Output, Tensor> feeds = n.feeds();
    double[] x = feeds.get(n.x()).toDoubleArray();
    double[] s = feeds.get(n.scale()).toDoubleArray();
    double[] o = feeds.get(n.offset()).toDoubleArray();
    double[] mean = new double[C];
    double[] var = new double[C];
    for (int c = 0; c < C; c++) {
      for (int r = 0; r < ROWS; r++) {
        mean[c] += x[r * C + c] / ROWS;
      }
      for (int r = 0; r < ROWS; r++) {
        var[c] += Math.pow(x[r * C + c] - mean[c], 2) / ROWS;
      }
    }
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      int c = i % C;
      y[i] = (x[i] - mean[c]) / Math.sqrt(var[c] + 1e-3) * s[c] + o[c];
    }
    try (Session session = new Session(n.g())) {
      List<Tensor> r = session.run(feeds, bn.get(0), bn.get(1), bn.get(2));
      ArrayOpsTest.assertClose(y, r.get(0).toDoubleArray(), 1e-12);
      ArrayOpsTest.assertClose(mean, r.get(1).toDoubleArray(), 1e-12);
      ArrayOpsTest.assertClose(var, r.get(2).toDoubleArray(), 1e-12);
    }
    // y, and the statistics themselves, differentiated through the fused backward op.
    Map<Output, Tensor> xs = Map.of(n.x(), feeds.get(n.x()), n.scale(), feeds.get(n.scale()), n.offset(),
        feeds.get(n.offset()));
    Map<Output, Tensor> others = Map.of(n.mean(), feeds.get(n.mean()), n.var(), feeds.get(n.var()));
    GradientChecker.check(bn.get(0), xs, others).assertWithin(1e-6);
    GradientChecker.check(tf.add(bn.get(1), tf.mul(bn.get(2), bn.get(2))), Map.of(n.x(), feeds.get(n.x())),
        Map.of(n.scale(), feeds.get(n.scale()), n.offset(), feeds.get(n.offset()), n.mean(), feeds.get(n.mean()),
            n.var(), feeds.get(n.var()))).assertWithin(1e-6);
  }

  @Test
  void batchNormInInferenceUsesTheGivenStatistics() {
    Graph5 n = Graph5.make();
    Ops tf = Ops.create(n.g());
    List<Output> bn = tf.batchNorm(n.x(), n.scale(), n.offset(), n.mean(), n.var(), 1e-3, false);
    Map<Output, Tensor> feeds = n.feeds();
    double[] x = feeds.get(n.x()).toDoubleArray();
    double[] s = feeds.get(n.scale()).toDoubleArray();
    double[] o = feeds.get(n.offset()).toDoubleArray();
    double[] m = feeds.get(n.mean()).toDoubleArray();
    double[] v = feeds.get(n.var()).toDoubleArray();
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      int c = i % C;
      y[i] = (x[i] - m[c]) / Math.sqrt(v[c] + 1e-3) * s[c] + o[c];
    }
    ArrayOpsTest.assertClose(y, ArrayOpsTest.run(n.g(), feeds, bn.get(0)).toDoubleArray(), 1e-12);
    GradientChecker.check(bn.get(0), feeds).assertWithin(1e-6);
  }

  @Test
  void batchNormInFloat32() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    float[] xv = new float[24];
    for (int i = 0; i < xv.length; i++) {
      xv[i] = (i * 7 % 11) - 5;
    }
    Output x = tf.constant(Tensor.of(xv, X));
    Output ones = tf.constant(new float[] {1, 1, 1, 1});
    Output zeros = tf.constant(new float[] {0, 0, 0, 0});
    float[] y = ArrayOpsTest.run(g, Map.of(), tf.batchNorm(x, ones, zeros, zeros, ones, 1e-5, true).get(0)).toFloatArray();
    for (int c = 0; c < C; c++) {
      double mean = 0;
      double sq = 0;
      for (int r = 0; r < ROWS; r++) {
        mean += y[r * C + c] / ROWS;
        sq += (double) y[r * C + c] * y[r * C + c] / ROWS;
      }
      assertEquals(0, mean, 1e-6);
      assertEquals(1, sq, 1e-3);
    }
  }

  /** Enough rows that the kernels split over the cores: values and gradients against loops. */
  @Test
  void aLargeBatchMatchesReferenceForwardAndBackward() {
    int rows = 2048;
    int ch = 48;
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(rows / 8, 8, ch));
    Output scale = tf.placeholder("scale", DType.FLOAT64, Shape.of(ch));
    Output offset = tf.placeholder("offset", DType.FLOAT64, Shape.of(ch));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(rows / 8, 8, ch));
    List<Output> bn = tf.batchNorm(x, scale, offset, offset, scale, 1e-3, true);
    List<Output> grads = tf.gradients(tf.reduceSum(tf.mul(bn.get(0), w)), x, scale, offset);
    double[] xv = ArrayOpsTest.random(11, rows / 8, 8, ch).toDoubleArray();
    for (int i = 0; i < xv.length; i++) {
      xv[i] = 3 + 2 * xv[i];
    }
    double[] sv = ArrayOpsTest.random(12, ch).toDoubleArray();
    double[] ov = ArrayOpsTest.random(13, ch).toDoubleArray();
    double[] wv = ArrayOpsTest.random(14, rows / 8, 8, ch).toDoubleArray();
    double[] mean = new double[ch];
    double[] var = new double[ch];
    for (int i = 0; i < xv.length; i++) {
      mean[i % ch] += xv[i] / rows;
    }
    for (int i = 0; i < xv.length; i++) {
      var[i % ch] += Math.pow(xv[i] - mean[i % ch], 2) / rows;
    }
    double[] y = new double[xv.length];
    double[] sumG = new double[ch];
    double[] sumGx = new double[ch];
    for (int i = 0; i < xv.length; i++) {
      int c = i % ch;
      double xhat = (xv[i] - mean[c]) / Math.sqrt(var[c] + 1e-3);
      y[i] = xhat * sv[c] + ov[c];
      sumG[c] += wv[i];
      sumGx[c] += wv[i] * xhat;
    }
    double[] dx = new double[xv.length];
    for (int i = 0; i < xv.length; i++) {
      int c = i % ch;
      double inv = 1 / Math.sqrt(var[c] + 1e-3);
      double xhat = (xv[i] - mean[c]) * inv;
      dx[i] = sv[c] * inv / rows * (rows * wv[i] - sumG[c] - xhat * sumGx[c]);
    }
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(xv, rows / 8, 8, ch), scale, Tensor.of(sv, ch), offset,
          Tensor.of(ov, ch), w, Tensor.of(wv, rows / 8, 8, ch)), bn.get(0), bn.get(1), bn.get(2), grads.get(0),
          grads.get(1), grads.get(2));
      ArrayOpsTest.assertClose(y, r.get(0).toDoubleArray(), 1e-10);
      ArrayOpsTest.assertClose(mean, r.get(1).toDoubleArray(), 1e-12);
      ArrayOpsTest.assertClose(var, r.get(2).toDoubleArray(), 1e-12);
      ArrayOpsTest.assertClose(dx, r.get(3).toDoubleArray(), 1e-9);
      ArrayOpsTest.assertClose(sumGx, r.get(4).toDoubleArray(), 1e-10);
      ArrayOpsTest.assertClose(sumG, r.get(5).toDoubleArray(), 1e-10);
    }
  }

  @Test
  void layerNormMatchesReferenceWithGradient() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(X));
    Output gamma = tf.placeholder("gamma", DType.FLOAT64, Shape.of(C));
    Output beta = tf.placeholder("beta", DType.FLOAT64, Shape.of(C));
    Output y = tf.layerNorm(x, gamma, beta, 1e-5);
    Map<Output, Tensor> feeds = Map.of(x, ArrayOpsTest.random(6, X), gamma, ArrayOpsTest.random(7, C), beta,
        ArrayOpsTest.random(8, C));
    double[] xv = feeds.get(x).toDoubleArray();
    double[] gv = feeds.get(gamma).toDoubleArray();
    double[] bv = feeds.get(beta).toDoubleArray();
    double[] ref = new double[xv.length];
    for (int r = 0; r < ROWS; r++) {
      double mean = 0;
      for (int c = 0; c < C; c++) {
        mean += xv[r * C + c] / C;
      }
      double var = 0;
      for (int c = 0; c < C; c++) {
        var += Math.pow(xv[r * C + c] - mean, 2) / C;
      }
      for (int c = 0; c < C; c++) {
        ref[r * C + c] = (xv[r * C + c] - mean) / Math.sqrt(var + 1e-5) * gv[c] + bv[c];
      }
    }
    ArrayOpsTest.assertClose(ref, ArrayOpsTest.run(g, feeds, y).toDoubleArray(), 1e-12);
    GradientChecker.check(y, feeds).assertWithin(1e-6);
  }

  /** Enough rows that LayerNorm and its backward op split over the cores, in float32, against loops. */
  @Test
  void aLargeLayerNormMatchesReferenceForwardAndBackward() {
    int rows = 4096;
    int ch = 24;
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(rows, ch));
    Output gamma = tf.placeholder("gamma", DType.FLOAT32, Shape.of(ch));
    Output beta = tf.placeholder("beta", DType.FLOAT32, Shape.of(ch));
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(rows, ch));
    Output y = tf.layerNorm(x, gamma, beta, 1e-5);
    List<Output> grads = tf.gradients(tf.reduceSum(tf.mul(y, w)), x, gamma, beta);
    float[] xv = floats(ArrayOpsTest.random(21, rows, ch).toDoubleArray());
    float[] gv = floats(ArrayOpsTest.random(22, ch).toDoubleArray());
    float[] bv = floats(ArrayOpsTest.random(23, ch).toDoubleArray());
    float[] wv = floats(ArrayOpsTest.random(24, rows, ch).toDoubleArray());
    double[] yRef = new double[rows * ch];
    double[] dx = new double[rows * ch];
    double[] dGamma = new double[ch];
    double[] dBeta = new double[ch];
    for (int r = 0; r < rows; r++) {
      double mean = 0;
      for (int c = 0; c < ch; c++) {
        mean += xv[r * ch + c] / (double) ch;
      }
      double var = 0;
      for (int c = 0; c < ch; c++) {
        var += Math.pow(xv[r * ch + c] - mean, 2) / ch;
      }
      double rstd = 1 / Math.sqrt(var + 1e-5);
      double gMean = 0;
      double gxMean = 0;
      for (int c = 0; c < ch; c++) {
        double xhat = (xv[r * ch + c] - mean) * rstd;
        yRef[r * ch + c] = xhat * gv[c] + bv[c];
        gMean += wv[r * ch + c] * gv[c] / ch;
        gxMean += wv[r * ch + c] * gv[c] * xhat / ch;
        dGamma[c] += wv[r * ch + c] * xhat;
        dBeta[c] += wv[r * ch + c];
      }
      for (int c = 0; c < ch; c++) {
        double xhat = (xv[r * ch + c] - mean) * rstd;
        dx[r * ch + c] = rstd * (wv[r * ch + c] * gv[c] - gMean - xhat * gxMean);
      }
    }
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(xv, rows, ch), gamma, Tensor.of(gv, ch), beta, Tensor.of(bv, ch), w,
          Tensor.of(wv, rows, ch)), y, grads.get(0), grads.get(1), grads.get(2));
      ArrayOpsTest.assertClose(yRef, r.get(0).toDoubleArray(), 1e-5);
      ArrayOpsTest.assertClose(dx, r.get(1).toDoubleArray(), 1e-4);
      ArrayOpsTest.assertClose(dGamma, r.get(2).toDoubleArray(), 1e-5);
      ArrayOpsTest.assertClose(dBeta, r.get(3).toDoubleArray(), 1e-5);
    }
  }

  static float[] floats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  @Test
  void perChannelInputsOfTheWrongShapeAreAnError() {
    Ops tf = Ops.create(new Graph());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 4));
    Output v3 = tf.placeholder("v3", DType.FLOAT32, Shape.of(3));
    Output v4 = tf.placeholder("v4", DType.FLOAT32, Shape.of(4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("ln").layerNorm(x, v3, v4, 1e-5));
    assertEquals("LayerNorm 'ln': gamma (input 1) has shape [3], but input 0 [2,4] has 4 channels (its last dimension)",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("bn").batchNorm(x, v4, v4, v4, v4, -1, true));
    assertEquals("BatchNorm 'bn': attribute 'epsilon' must be a finite number > 0, got -1.0", e.getMessage());
  }
}
