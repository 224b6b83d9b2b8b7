package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Optimizer updates against reference loops written here in double precision. The gradients are fed
 * through a placeholder, so these tests check the update rules alone; {@link MinimizeTest} covers
 * minimize with symbolic gradients.
 */
class OptimizerTest {
  private static final float[] W0 = {1f, -2f, 3f, 0.5f};
  private static final float[][] GRADS = {{0.5f, -1f, 2f, 0f}, {0.25f, 0.5f, -3f, 1e-3f}, {-1f, 2f, 0.1f, -4f}};

  /** Runs three steps of {@code opt} with the fed gradients; returns w after each step. */
  private static List<float[]> steps(Function<Ops, Optimizer> make, Graph g) {
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(Tensor.of(W0, 4)));
    Output grad = tf.placeholder("grad", DType.FLOAT32, Shape.of(4));
    Operation update = make.apply(tf).applyGradients(List.of(grad), List.of(w));
    Operation init = tf.globalVariablesInitializer();
    try (Session s = new Session(g)) {
      s.run(init);
      List<float[]> ws = new java.util.ArrayList<>();
      for (float[] gr : GRADS) {
        s.runner().feed(grad, Tensor.of(gr, 4)).addTarget(update).run();
        ws.add(s.variableValue(w).toFloatArray());
      }
      return ws;
    }
  }

  private static void assertClose(double[] want, float[] got, String what) {
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-6 + 1e-5 * Math.abs(want[i]), what + " [" + i + "]");
    }
  }

  @Test
  void gradientDescent() {
    List<float[]> ws = steps(tf -> new GradientDescent(0.1), new Graph());
    double[] w = toDouble(W0);
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < 4; i++) {
        w[i] -= 0.1 * GRADS[t][i];
      }
      assertClose(w, ws.get(t), "step " + (t + 1));
    }
  }

  @Test
  void momentumClassicalAndNesterov() {
    for (boolean nesterov : new boolean[] {false, true}) {
      List<float[]> ws = steps(tf -> new Momentum(0.1, 0.9, nesterov), new Graph());
      double[] w = toDouble(W0);
      double[] buf = new double[4];
      for (int t = 0; t < 3; t++) {
        for (int i = 0; i < 4; i++) {
          double g = GRADS[t][i];
          buf[i] = 0.9 * buf[i] + g;
          w[i] -= 0.1 * (nesterov ? g + 0.9 * buf[i] : buf[i]);
        }
        assertClose(w, ws.get(t), (nesterov ? "nesterov" : "momentum") + " step " + (t + 1));
      }
    }
  }

  @Test
  void momentumSecondStepByHand() {
    // w = 1, g1 = 0.5, g2 = 0.25, lr 0.1, mu 0.9: buf1 = 0.5, w1 = 0.95; buf2 = 0.7, w2 = 0.88
    assertEquals(0.88, steps(tf -> new Momentum(0.1, 0.9, false), new Graph()).get(1)[0], 1e-6);
    // Nesterov: w1 = 1 - 0.1 (0.5 + 0.45) = 0.905; w2 = 0.905 - 0.1 (0.25 + 0.63) = 0.817
    assertEquals(0.817, steps(tf -> new Momentum(0.1, 0.9, true), new Graph()).get(1)[0], 1e-6);
  }

  @Test
  void adamWithBiasCorrection() {
    for (double eps : new double[] {1e-8, 0.1}) {
      List<float[]> ws = steps(tf -> new Adam(0.01, 0.9, 0.999, eps), new Graph());
      double[] w = toDouble(W0);
      double[] m = new double[4];
      double[] v = new double[4];
      for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < 4; i++) {
          double g = GRADS[t - 1][i];
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.999 * v[i] + 0.001 * g * g;
          double mHat = m[i] / (1 - Math.pow(0.9, t));
          double vHat = v[i] / (1 - Math.pow(0.999, t));
          w[i] -= 0.01 * mHat / (Math.sqrt(vHat) + eps);
        }
        assertClose(w, ws.get(t - 1), "eps " + eps + " step " + t);
      }
    }
  }

  @Test
  void adamFirstStepIsLearningRateTimesSignByHand() {
    // bias correction makes m_hat = g and v_hat = g^2 at t = 1, so the step is lr * g / (|g| + eps)
    float[] w1 = steps(tf -> new Adam(0.01), new Graph()).getFirst();
    assertEquals(1 - 0.01, w1[0], 1e-6);
    assertEquals(-2 + 0.01, w1[1], 1e-6);
    assertEquals(3 - 0.01, w1[2], 1e-6);
    assertEquals(0.5, w1[3], 0); // g = 0: no step
    // epsilon outside the square root: with eps 0.5 and g = 2, the step is 0.01 * 2 / 2.5
    float[] big = steps(tf -> new Adam(0.01, 0.9, 0.999, 0.5), new Graph()).getFirst();
    assertEquals(3 - 0.01 * 2 / 2.5, big[2], 1e-6);
  }

  @Test
  void adamOnADoubleVariableWithAFloatLearningRate() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(Tensor.of(new double[] {1, -2}, 2)));
    Output lr = tf.placeholder("lr", DType.FLOAT32, Shape.scalar());
    Operation update = new Adam(lr).applyGradients(
        List.of(tf.constant(Tensor.of(new double[] {0.5, -4}, 2))), List.of(w));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      s.runner().feed(lr, Tensor.scalar(0.25f)).addTarget(update).run();
      // first step: lr * g / (|g| + 1e-8)
      double[] got = s.variableValue(w).toDoubleArray();
      assertEquals(1 - 0.25 * 0.5 / (0.5 + 1e-8), got[0], 1e-12);
      assertEquals(-2 + 0.25 * 4 / (4 + 1e-8), got[1], 1e-12);
    }
  }

  @Test
  void rmsProp() {
    List<float[]> ws = steps(tf -> new RMSProp(0.01, 0.9, 1e-6), new Graph());
    double[] w = toDouble(W0);
    double[] sq = new double[4];
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < 4; i++) {
        double g = GRADS[t][i];
        sq[i] = 0.9 * sq[i] + 0.1 * g * g;
        w[i] -= 0.01 * g / (Math.sqrt(sq[i]) + 1e-6);
      }
      assertClose(w, ws.get(t), "step " + (t + 1));
    }
  }

  @Test
  void learningRateAsAFedOutput() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(Tensor.of(W0, 4)));
    Output grad = tf.placeholder("grad", DType.FLOAT32, Shape.of(4));
    Output lr = tf.placeholder("lr", DType.FLOAT32, Shape.scalar());
    Operation update = new GradientDescent(lr).applyGradients(List.of(grad), List.of(w));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] want = toDouble(W0);
      float[] rates = {0.5f, 0.1f, 0.01f};
      for (int t = 0; t < 3; t++) {
        s.runner().feed(grad, Tensor.of(GRADS[t], 4)).feed(lr, Tensor.scalar(rates[t])).addTarget(update).run();
        for (int i = 0; i < 4; i++) {
          want[i] -= rates[t] * (double) GRADS[t][i];
        }
      }
      assertClose(want, s.variableValue(w).toFloatArray(), "scheduled");
    }
  }

  @Test
  void slotVariablesAreNamedUnderTheOptimizerScope() {
    Graph g = new Graph();
    steps(tf -> new Adam(0.1), g);
    assertEquals(List.of("w", "adam/step", "adam/w/m", "adam/w/v"), g.variables().stream().map(Output::name).toList());
    assertEquals(Shape.of(4), g.output("adam/w/m").shape());
    assertEquals(DType.INT64, g.output("adam/step").dtype());
    Graph g2 = new Graph();
    steps(tf -> new Momentum(0.1, 0.5, false), g2);
    assertEquals(List.of("w", "momentum/w/momentum"), g2.variables().stream().map(Output::name).toList());
    Graph g3 = new Graph();
    steps(tf -> new RMSProp(0.1), g3);
    assertEquals(List.of("w", "rmsprop/w/square_avg"), g3.variables().stream().map(Output::name).toList());
  }

  @Test
  void adamCountsSteps() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(Tensor.of(W0, 4)));
    Operation update = new Adam(0.1).applyGradients(List.of(tf.constant(Tensor.of(GRADS[0], 4))), List.of(w));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      for (int i = 0; i < 5; i++) {
        s.run(update);
      }
      assertEquals(5L, s.variableValue((Variable) g.output("adam/step")).longValue());
    }
  }

  @Test
  void badArgumentsAreNamed() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(Tensor.of(W0, 4)));
    Output g3 = tf.placeholder("g3", DType.FLOAT32, Shape.of(3));
    var e = assertThrows(IllegalArgumentException.class,
        () -> new Adam(0.1).applyGradients(List.of(g3), List.of(w)));
    assertEquals("adam.applyGradients: gradient 'g3' is f32[3] but variable 'w' is f32[4]", e.getMessage());
    var n = assertThrows(IllegalArgumentException.class,
        () -> new GradientDescent(0.1).applyGradients(List.of(), List.of(w)));
    assertEquals("gradient_descent.applyGradients: 0 gradients for 1 variables", n.getMessage());
    Variable counter = tf.variable("counter", tf.constant(Tensor.of(new int[] {0}, 1)));
    var i = assertThrows(IllegalArgumentException.class, () -> new GradientDescent(0.1)
        .applyGradients(List.of(tf.placeholder("gi", DType.INT32, Shape.of(1))), List.of(counter)));
    assertEquals("gradient_descent.applyGradients: variable 'counter' is i32; only f32 and f64 variables can be"
        + " trained", i.getMessage());
    assertEquals("adam: learning rate must be a positive number, got -1.0",
        assertThrows(IllegalArgumentException.class, () -> new Adam(-1)).getMessage());
    assertEquals("adam: beta1 must be in [0, 1), got 1.0",
        assertThrows(IllegalArgumentException.class, () -> new Adam(0.1, 1, 0.9, 1e-8)).getMessage());
    int before = g.size();
    assertThrows(IllegalArgumentException.class, () -> new Adam(0.1).applyGradients(List.of(g3), List.of(w)));
    assertEquals(before, g.size(), "a failed applyGradients adds no node");
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
