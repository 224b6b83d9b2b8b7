package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Values of gradients run in a Session, against hand-computed derivatives. */
class GradientsTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  private List<Tensor> run(Map<Output, Tensor> feeds, Output... fetches) {
    try (Session s = new Session(g)) {
      return s.run(feeds, fetches);
    }
  }

  @Test
  void gradientOfXSquaredAtTwoIsFour() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.scalar());
    Output dx = tf.gradients(tf.square(x), x).get(0);
    assertEquals(4f, run(Map.of(x, Tensor.scalar(2f)), dx).get(0).floatValue());
  }

  @Test
  void secondDerivativeOfSinOfXSquared() {
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(4));
    Output y = tf.sin(tf.mul(x, x));
    Output d1 = tf.gradients(y, x).get(0);
    Output d2 = tf.gradients(d1, x).get(0);
    double[] xs = {-1.3, -0.2, 0.7, 1.9};
    List<Tensor> r = run(Map.of(x, Tensor.of(xs, 4)), d1, d2);
    double[] e1 = new double[4];
    double[] e2 = new double[4];
    for (int i = 0; i < 4; i++) {
      double q = xs[i] * xs[i];
      e1[i] = 2 * xs[i] * Math.cos(q);
      e2[i] = 2 * Math.cos(q) - 4 * q * Math.sin(q);
    }
    assertArrayEquals(e1, r.get(0).toDoubleArray(), 1e-12);
    assertArrayEquals(e2, r.get(1).toDoubleArray(), 1e-12);
  }

  @Test
  void hessianVectorProduct() {
    // f(x) = (sum x^2)^2: H v = 4 s v + 8 x (x . v), with s = sum x^2.
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output v = tf.placeholder("v", DType.FLOAT64, Shape.of(3));
    Output f = tf.square(tf.reduceSum(tf.square(x)));
    Output grad = tf.gradients(f, x).get(0);
    Output hv = tf.gradients(tf.reduceSum(tf.mul(grad, v)), x).get(0);
    double[] xv = {0.5, -1.0, 2.0};
    double[] vv = {1.5, 0.25, -0.75};
    double s = 0;
    double xdotv = 0;
    for (int i = 0; i < 3; i++) {
      s += xv[i] * xv[i];
      xdotv += xv[i] * vv[i];
    }
    double[] expected = new double[3];
    for (int i = 0; i < 3; i++) {
      expected[i] = 4 * s * vv[i] + 8 * xv[i] * xdotv;
    }
    assertArrayEquals(expected, run(Map.of(x, Tensor.of(xv, 3), v, Tensor.of(vv, 3)), hv).get(0).toDoubleArray(), 1e-12);
  }

  @Test
  void gradYsWeightTheSeed() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output gy = tf.placeholder("gy", DType.FLOAT32, Shape.of(3));
    Output y = tf.mul(x, x);
    Output dx = tf.gradients(List.of(y), List.of(x), List.of(gy)).get(0);
    Output dxDefault = tf.gradients(y, x).get(0);
    List<Tensor> r = run(Map.of(x, Tensor.of(new float[] {1, 2, 3}, 3), gy, Tensor.of(new float[] {10, 0, -1}, 3)),
        dx, dxDefault);
    assertArrayEquals(new float[] {20, 0, -6}, r.get(0).toFloatArray());
    // A non-scalar y without gradYs is seeded with ones: the gradient of sum(y).
    assertArrayEquals(new float[] {2, 4, 6}, r.get(1).toFloatArray());
  }

  @Test
  void severalYsAreSummed() {
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2));
    Output dx = tf.gradients(List.of(tf.reduceSum(tf.square(x)), tf.reduceSum(tf.exp(x))), List.of(x)).get(0);
    double[] xv = {0.5, -2};
    double[] r = run(Map.of(x, Tensor.of(xv, 2)), dx).get(0).toDoubleArray();
    assertArrayEquals(new double[] {2 * 0.5 + Math.exp(0.5), -4 + Math.exp(-2)}, r, 1e-12);
  }

  @Test
  void unusedXGetsZerosOfItsShape() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    Output z = tf.placeholder("z", DType.FLOAT32, Shape.of(2, 3));
    List<Output> d = tf.gradients(tf.reduceSum(tf.square(x)), x, z);
    Tensor dz = run(Map.of(x, Tensor.of(new float[] {1, 2}, 2), z, Tensor.zeros(DType.FLOAT32, Shape.of(2, 3))),
        d.get(1)).get(0);
    assertEquals(Shape.of(2, 3), dz.shape());
    assertArrayEquals(new float[6], dz.toFloatArray());
  }

  @Test
  void valueUsedSeveralTimesSumsItsGradients() {
    // y = x*x + 3x + x  =>  dy/dx = 2x + 4
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.addN(List.of(tf.mul(x, x), tf.mul(tf.constant(3f), x), x));
    Output dx = tf.gradients(y, x).get(0);
    assertArrayEquals(new float[] {4, 6, 0}, run(Map.of(x, Tensor.of(new float[] {0, 1, -2}, 3)), dx).get(0).toFloatArray());
  }

  @Test
  void stopGradientPassesTheValueButNoGradient() {
    // y = x * stop(x): value x^2, gradient stop(x) = x (not 2x).
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    Output y = tf.mul(x, tf.stopGradient(x));
    Output dx = tf.gradients(y, x).get(0);
    List<Tensor> r = run(Map.of(x, Tensor.of(new float[] {3, -1}, 2)), y, dx);
    assertArrayEquals(new float[] {9, 1}, r.get(0).toFloatArray());
    assertArrayEquals(new float[] {3, -1}, r.get(1).toFloatArray());
  }

  @Test
  void castBetweenFloatTypesCastsTheGradientBack() {
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2));
    Output y = tf.reduceSum(tf.mul(tf.cast(x, DType.FLOAT32), tf.constant(3f)));
    Output dx = tf.gradients(y, x).get(0);
    assertEquals(DType.FLOAT64, dx.dtype());
    assertArrayEquals(new double[] {3, 3}, run(Map.of(x, Tensor.of(new double[] {1, 2}, 2)), dx).get(0).toDoubleArray());
  }

  @Test
  void gradientsOfVariablesTrainTheClassicStep() {
    // One SGD step on loss = sum((w*x - t)^2) by hand: dw = 2 x (w x - t).
    Variable w = tf.variable("w", tf.constant(new float[] {1, -1}));
    Output x = tf.constant(new float[] {2, 3});
    Output t = tf.constant(new float[] {1, 1});
    Output loss = tf.reduceSum(tf.square(tf.sub(tf.mul(w, x), t)));
    Output dw = tf.gradients(loss, w).get(0);
    Output step = tf.assign(w, tf.sub(w, tf.mul(tf.constant(0.01f), dw)));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> r = s.run(Map.of(), dw, step);
      assertArrayEquals(new float[] {2 * 2 * (2 - 1), 2 * 3 * (-3 - 1)}, r.get(0).toFloatArray());
      assertArrayEquals(new float[] {1 - 0.04f, -1 + 0.24f}, r.get(1).toFloatArray(), 1e-6f);
    }
  }

  @Test
  void checkerReportsAWrongGradient() {
    // The custom gradient below is deliberately wrong (2x instead of cos x): the checker must say so.
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2));
    Output y = tf.customGradient(List.of(x), in -> List.of(tf.sin(in.get(0))),
        (t, in, out, dOut) -> List.of(t.mul(dOut.get(0), t.mul(in.get(0), t.constant(2.0))))).get(0);
    GradientChecker.Result r = GradientChecker.check(y, Map.of(x, Tensor.of(new double[] {0.3, 1.2}, 2)));
    assertTrue(r.maxRelError() > 0.1, r.toString());
    AssertionError e = assertThrows(AssertionError.class, () -> r.assertWithin(1e-6));
    assertTrue(e.getMessage().startsWith("gradient check failed: max relative error "), e.getMessage());
  }

  @Test
  void checkerRejectsNonFloat64() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GradientChecker.check(tf.square(x), Map.of(x, Tensor.of(new float[] {1, 2}, 2))));
    assertEquals("GradientChecker: y 'Square' must be f64, got f32[2]", e.getMessage());
  }

  @Test
  void broadcastGradientsWithAnUnknownBatchDimension() {
    // y = x * w + b over a batch of unknown size: db sums over the batch, dw sums x over it.
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 2));
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(2));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.scalar());
    Output y = tf.add(tf.mul(x, w), b);
    List<Output> d = tf.gradients(y, w, b);
    List<Tensor> r = run(Map.of(x, Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2),
        w, Tensor.of(new float[] {7, 8}, 2), b, Tensor.scalar(0.5f)), d.get(0), d.get(1));
    assertArrayEquals(new float[] {1 + 3 + 5, 2 + 4 + 6}, r.get(0).toFloatArray());
    assertEquals(Shape.scalar(), r.get(1).shape());
    assertEquals(6f, r.get(1).floatValue());
  }

  @Test
  void checkerWithFedLabelsOnSoftmaxCrossEntropy() {
    Output logits = tf.placeholder("logits", DType.FLOAT64, Shape.of(2, 3));
    Output labels = tf.placeholder("labels", DType.INT32, Shape.of(2));
    Output loss = tf.neg(tf.reduceSum(tf.mul(tf.oneHot(labels, 3, DType.FLOAT64), tf.logSoftmax(logits))));
    Map<Output, Tensor> xs = Map.of(logits, Tensor.of(new double[] {0.2, -1.0, 0.7, 1.5, 0.1, -0.3}, 2, 3));
    Map<Output, Tensor> other = Map.of(labels, Tensor.of(new int[] {2, 0}, 2));
    GradientChecker.check(loss, xs, other).assertWithin(1e-6);
    // The gradient itself is softmax(logits) - onehot(labels): check it by hand too.
    Output d = tf.gradients(loss, logits).get(0);
    double[] l = {0.2, -1.0, 0.7, 1.5, 0.1, -0.3};
    int[] lab = {2, 0};
    double[] expected = new double[6];
    for (int row = 0; row < 2; row++) {
      double z = 0;
      for (int j = 0; j < 3; j++) {
        z += Math.exp(l[row * 3 + j]);
      }
      for (int j = 0; j < 3; j++) {
        expected[row * 3 + j] = Math.exp(l[row * 3 + j]) / z - (j == lab[row] ? 1 : 0);
      }
    }
    java.util.Map<Output, Tensor> feeds = new java.util.HashMap<>(xs);
    feeds.putAll(other);
    assertArrayEquals(expected, run(feeds, d).get(0).toDoubleArray(), 1e-12);
  }
}
