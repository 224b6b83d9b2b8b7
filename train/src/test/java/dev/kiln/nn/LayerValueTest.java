package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Layers' values against plain-Java computations. */
class LayerValueTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  private static float[] randomArray(int n, long seed, float scale) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (r.nextFloat() * 2 - 1) * scale;
    }
    return a;
  }

  private Tensor run(Output o, Output x, Tensor value) {
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      return s.runner().feed(x, value).fetch(o).run().getFirst();
    }
  }

  @Test
  void linearComputesXWPlusB() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 5));
    Linear layer = new Linear(5, 3);
    Output y = layer.apply(tf, x);
    float[] xs = randomArray(4 * 5, 1, 2f);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      // give the bias a non-zero value so that it shows in the result
      Tensor b = Tensor.of(new float[] {0.5f, -1f, 2f}, 3);
      s.assignVariables(java.util.Map.of(layer.bias().orElseThrow(), b));
      float[] w = s.variableValue(layer.weight().orElseThrow()).toFloatArray();
      float[] got = s.runner().feed(x, Tensor.of(xs, 4, 5)).fetch(y).run().getFirst().toFloatArray();
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++) {
          double want = b.toFloatArray()[j];
          for (int k = 0; k < 5; k++) {
            want += xs[i * 5 + k] * w[k * 3 + j];
          }
          assertEquals(want, got[i * 3 + j], 1e-5, "y[" + i + "," + j + "]");
        }
      }
    }
  }

  @Test
  void initializersDrawFromTheirRanges() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 400));
    Linear glorot = new Linear(400, 200);
    Linear heUniform = new Linear(400, 200).withInitializer(Initializer.HE_UNIFORM);
    Linear heNormal = new Linear(400, 200).withInitializer(Initializer.HE_NORMAL);
    glorot.apply(tf, x);
    heUniform.apply(tf, x);
    heNormal.apply(tf, x);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      checkUniform(s.variableValue(glorot.weight().orElseThrow()).toFloatArray(), Math.sqrt(6.0 / 600));
      checkUniform(s.variableValue(heUniform.weight().orElseThrow()).toFloatArray(), Math.sqrt(6.0 / 400));
      float[] n = s.variableValue(heNormal.weight().orElseThrow()).toFloatArray();
      double var = 0;
      for (float v : n) {
        var += v * v;
      }
      // 80,000 draws: the sample variance is within a few percent of 2 / fanIn
      assertEquals(2.0 / 400, var / n.length, 0.05 * 2.0 / 400);
      assertArrayEquals(new float[200], s.variableValue(glorot.bias().orElseThrow()).toFloatArray());
    }
  }

  /** All values within (-limit, limit), spread over it: variance close to limit^2 / 3. */
  private static void checkUniform(float[] w, double limit) {
    double var = 0;
    for (float v : w) {
      assertTrue(Math.abs(v) <= limit, v + " outside +-" + limit);
      var += v * v;
    }
    assertEquals(limit * limit / 3, var / w.length, 0.05 * limit * limit / 3);
  }

  @Test
  void differentLayersStartDifferentlyAndSeedsRepeat() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 4));
    Linear a = new Linear(4, 4);
    Linear b = new Linear(4, 4);
    Linear nested = new Linear(4, 4);
    Linear c = new Linear(4, 4).withSeed(9);
    Linear d = new Linear(4, 4).withSeed(9);
    Sequential.of(a, b, c, d).apply(tf, x);
    nested.apply(tf.withSubScope("block"), x); // block/linear: same scope base as a, still different values
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      assertTrue(!s.variableValue(a.weight().orElseThrow()).equals(s.variableValue(b.weight().orElseThrow())));
      assertTrue(!s.variableValue(a.weight().orElseThrow()).equals(s.variableValue(nested.weight().orElseThrow())));
      assertEquals(s.variableValue(c.weight().orElseThrow()), s.variableValue(d.weight().orElseThrow()));
    }
  }

  @Test
  void activations() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    float[] xs = {-2f, 0f, 3f, 0.5f, -0.25f, 40f};
    Tensor in = Tensor.of(xs, 2, 3);
    float[] relu = run(new ReLU().apply(tf, x), x, in).toFloatArray();
    float[] sig = run(new Sigmoid().apply(tf, x), x, in).toFloatArray();
    float[] tanh = run(new Tanh().apply(tf, x), x, in).toFloatArray();
    for (int i = 0; i < xs.length; i++) {
      assertEquals(Math.max(xs[i], 0), relu[i], 0);
      assertEquals(1 / (1 + Math.exp(-xs[i])), sig[i], 1e-6);
      assertEquals(Math.tanh(xs[i]), tanh[i], 1e-6);
    }
  }

  @Test
  void softmaxAndLogSoftmaxAlongEitherAxis() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    float[] xs = {1f, 2f, 3f, -1f, 100f, 0f};
    Tensor in = Tensor.of(xs, 2, 3);
    float[] rows = run(new Softmax().apply(tf, x), x, in).toFloatArray();
    float[] cols = run(new Softmax(0).apply(tf, x), x, in).toFloatArray();
    float[] logRows = run(new LogSoftmax().apply(tf, x), x, in).toFloatArray();
    for (int i = 0; i < 2; i++) {
      double max = Math.max(xs[3 * i], Math.max(xs[3 * i + 1], xs[3 * i + 2]));
      double z = 0;
      for (int j = 0; j < 3; j++) {
        z += Math.exp(xs[3 * i + j] - max);
      }
      for (int j = 0; j < 3; j++) {
        assertEquals(Math.exp(xs[3 * i + j] - max) / z, rows[3 * i + j], 1e-6);
        assertEquals(xs[3 * i + j] - max - Math.log(z), logRows[3 * i + j], 1e-5);
      }
    }
    for (int j = 0; j < 3; j++) {
      double a = xs[j];
      double b = xs[3 + j];
      double m = Math.max(a, b);
      assertEquals(Math.exp(a - m) / (Math.exp(a - m) + Math.exp(b - m)), cols[j], 1e-6);
    }
  }

  @Test
  void dropoutScalesSurvivorsWhileTrainingAndIsTheIdentityOtherwise() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(100, 100));
    Output training = Dropout.trainingFlag(tf, "training");
    Output y = new Dropout(0.25, training).withSeed(5).apply(tf, x);
    float[] xs = randomArray(10_000, 3, 1f);
    try (Session s = new Session(g)) {
      Tensor in = Tensor.of(xs, 100, 100);
      float[] eval = s.runner().feed(x, in).feed(training, Tensor.scalar(false)).fetch(y).run().getFirst()
          .toFloatArray();
      assertArrayEquals(xs, eval);
      float[] first = s.runner().feed(x, in).feed(training, Tensor.scalar(true)).fetch(y).run().getFirst()
          .toFloatArray();
      float[] second = s.runner().feed(x, in).feed(training, Tensor.scalar(true)).fetch(y).run().getFirst()
          .toFloatArray();
      int dropped = 0;
      for (int i = 0; i < xs.length; i++) {
        if (first[i] == 0) {
          dropped++;
        } else {
          assertEquals(xs[i] / 0.75f, first[i], 1e-6);
        }
      }
      // 10,000 Bernoulli(0.25) draws: 2,500 +- 4 standard deviations (43 each)
      assertTrue(Math.abs(dropped - 2500) < 175, "dropped " + dropped);
      assertTrue(!java.util.Arrays.equals(first, second), "each run draws a new mask");
    }
  }
}
