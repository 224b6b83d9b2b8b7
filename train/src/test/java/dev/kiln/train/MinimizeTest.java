package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Losses;
import dev.kiln.nn.Reduction;
import dev.kiln.runtime.Session;
import java.util.List;
import org.junit.jupiter.api.Test;

/** minimize: symbolic gradients, variable discovery, slot initialization, convergence. */
class MinimizeTest {
  @Test
  void gradientDescentOnAQuadraticByHand() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(new float[] {1f, -2f}));
    Variable unused = tf.variable("unused", tf.constant(new float[] {5f}));
    Output target = tf.constant(new float[] {3f, 1f});
    // loss = 0.5 * sum((w - target)^2), gradient w - target
    Output loss = tf.mul(tf.constant(0.5f), tf.reduceSum(tf.square(tf.sub(w, target))));
    assertEquals(List.of(w), Optimizer.variablesRead(loss));
    Operation step = new GradientDescent(0.25).minimize(loss);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      s.run(step);
      // w1 = w0 - 0.25 (w0 - t) = (1 - 0.25 * -2, -2 - 0.25 * -3) = (1.5, -1.25)
      float[] w1 = s.variableValue(w).toFloatArray();
      assertEquals(1.5f, w1[0], 1e-6);
      assertEquals(-1.25f, w1[1], 1e-6);
      assertEquals(5f, s.variableValue(unused).toFloatArray()[0]);
    }
  }

  @Test
  void adamSlotsAreInitializedByTheInitializerBuiltAfterMinimize() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 2));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 1));
    Linear layer = new Linear(2, 1).withSeed(1);
    Output loss = Losses.meanSquaredError(tf, layer.apply(tf, x), y, Reduction.MEAN);
    Operation step = new Adam(0.05).minimize(loss);
    assertEquals(List.of("linear/weight", "linear/bias", "adam/step", "adam/linear/weight/m", "adam/linear/weight/v",
        "adam/linear/bias/m", "adam/linear/bias/v"), g.variables().stream().map(Output::name).toList());
    Operation init = tf.globalVariablesInitializer();
    // fit y = 2 x0 - 3 x1 + 1
    float[] xs = {1, 0, 0, 1, 1, 1, 2, -1, -1, 3, 0, 0};
    float[] ys = new float[6];
    for (int i = 0; i < 6; i++) {
      ys[i] = 2 * xs[2 * i] - 3 * xs[2 * i + 1] + 1;
    }
    try (Session s = new Session(g)) {
      s.run(init);
      float first = Float.NaN;
      float last = Float.NaN;
      for (int i = 0; i < 1500; i++) {
        last = s.runner().feed(x, Tensor.of(xs, 6, 2)).feed(y, Tensor.of(ys, 6, 1)).fetch(loss).addTarget(step)
            .run().getFirst().floatValue();
        if (i == 0) {
          first = last;
        }
      }
      assertTrue(last < 1e-6 && first > 1, "loss " + first + " -> " + last);
      float[] w = s.variableValue(layer.weight().orElseThrow()).toFloatArray();
      assertEquals(2f, w[0], 1e-3);
      assertEquals(-3f, w[1], 1e-3);
      assertEquals(1f, s.variableValue(layer.bias().orElseThrow()).toFloatArray()[0], 1e-3);
    }
  }

  @Test
  void explicitVariableListTrainsOnlyThose() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable a = tf.variable("a", tf.constant(new float[] {1f}));
    Variable b = tf.variable("b", tf.constant(new float[] {1f}));
    Output loss = tf.reduceSum(tf.mul(a, b));
    Operation step = new GradientDescent(0.5).minimize(loss, List.of(b));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      s.run(step);
      assertEquals(1f, s.variableValue(a).toFloatArray()[0]);
      assertEquals(0.5f, s.variableValue(b).toFloatArray()[0], 1e-6); // b - 0.5 * a
    }
  }

  @Test
  void lossWithoutVariablesIsRejected() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output loss = tf.reduceSum(tf.placeholder("p", DType.FLOAT32, Shape.of(3)));
    var e = assertThrows(IllegalArgumentException.class, () -> new Adam(0.1).minimize(loss));
    assertEquals("adam: loss 'Sum' reads no floating-point variable", e.getMessage());
  }
}
