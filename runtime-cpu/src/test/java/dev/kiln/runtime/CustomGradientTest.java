package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CustomGradientTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  private Output customRelu(Output x) {
    return tf.customGradient(List.of(x),
        in -> List.of(tf.maximum(in.get(0), tf.constant(0.0, in.get(0).dtype()))),
        (t, in, out, dOut) -> List.of(
            t.select(t.greater(in.get(0), t.constant(0.0, in.get(0).dtype())), dOut.get(0), t.zerosLike(dOut.get(0)))))
        .get(0);
  }

  @Test
  void customReluMatchesBuiltinValuesAndGradients() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(5));
    Output w = tf.constant(new float[] {1, 2, 3, 4, 5});
    Output custom = customRelu(x);
    Output builtin = tf.maximum(x, tf.constant(0f));
    Output dCustom = tf.gradients(tf.reduceSum(tf.mul(custom, w)), x).get(0);
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(new float[] {-2, -0.5f, 0.5f, 1, 3}, 5)), custom, builtin, dCustom);
      assertArrayEquals(new float[] {0, 0, 0.5f, 1, 3}, r.get(0).toFloatArray());
      assertArrayEquals(r.get(1).toFloatArray(), r.get(0).toFloatArray());
      assertArrayEquals(new float[] {0, 0, 3, 4, 5}, r.get(2).toFloatArray());
    }
  }

  @Test
  void backwardIsUsedInsteadOfForwardNodes() {
    // forward x^3, backward says 10 * g: the gradient pass must use it as written.
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2));
    Output y = tf.customGradient(List.of(x), in -> List.of(tf.mul(in.get(0), tf.square(in.get(0)))),
        (t, in, out, dOut) -> List.of(t.mul(dOut.get(0), t.constant(10.0)))).get(0);
    Output dx = tf.gradients(y, x).get(0);
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(new double[] {2, -1}, 2)), y, dx);
      assertArrayEquals(new double[] {8, -1}, r.get(0).toDoubleArray());
      assertArrayEquals(new double[] {10, 10}, r.get(1).toDoubleArray());
    }
  }

  @Test
  void severalInputsAndOutputsAgreeWithCentralDifferences() {
    // outputs (sin(a) * b, a + b^2); backward written by hand.
    Output a = tf.placeholder("a", DType.FLOAT64, Shape.of(3));
    Output b = tf.placeholder("b", DType.FLOAT64, Shape.of(3));
    List<Output> outs = tf.customGradient(List.of(a, b),
        in -> List.of(tf.mul(tf.sin(in.get(0)), in.get(1)), tf.add(in.get(0), tf.square(in.get(1)))),
        (t, in, out, d) -> List.of(
            t.add(t.mul(d.get(0), t.mul(t.cos(in.get(0)), in.get(1))), d.get(1)),
            t.add(t.mul(d.get(0), t.sin(in.get(0))), t.mul(d.get(1), t.mul(t.constant(2.0), in.get(1))))));
    Output y = tf.mul(outs.get(0), tf.exp(outs.get(1)));
    GradientChecker.check(y, Map.of(a, Tensor.of(new double[] {0.1, -0.7, 1.3}, 3),
        b, Tensor.of(new double[] {0.4, 0.2, -0.5}, 3))).assertWithin(1e-6);
  }

  @Test
  void backwardCanBeDifferentiatedAgain() {
    // A custom softplus: forward log(1 + exp x), backward g * sigmoid(x); its second derivative is
    // sigmoid'(x), through the backward's own nodes.
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(4));
    Output y = tf.customGradient(List.of(x), in -> List.of(tf.log(tf.add(tf.constant(1.0), tf.exp(in.get(0))))),
        (t, in, out, d) -> List.of(t.mul(d.get(0), t.sigmoid(in.get(0))))).get(0);
    Output first = tf.gradients(y, x).get(0);
    Map<Output, Tensor> feed = Map.of(x, Tensor.of(new double[] {-1.5, -0.1, 0.6, 2.2}, 4));
    GradientChecker.check(y, feed).assertWithin(1e-6);
    GradientChecker.check(first, feed).assertWithin(1e-6);
  }
}
