package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.OpContext;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A user-defined op (cube: x^3) with an OpDef, a Java CPU kernel and a gradient, used in graphs. */
class UserOpGradientTest {
  /** An op type with shape inference only: its gradient is registered separately. */
  record UnaryFloatDef(String type) implements OpDef {
    public int minInputs() {
      return 1;
    }

    public int maxInputs() {
      return 1;
    }

    public List<TensorType> infer(OpContext c) {
      if (c.dtype(0) != DType.FLOAT64) {
        throw c.error("input 0 must be f64, got %s", c.dtype(0).shortName());
      }
      return List.of(c.input(0));
    }
  }

  @BeforeAll
  static void registerOps() {
    OpRegistry.register(new UnaryFloatDef("UserCube"));
    CpuKernels.register("UserCube", (inputs, attrs) -> {
      double[] v = inputs.get(0).toDoubleArray();
      for (int i = 0; i < v.length; i++) {
        v[i] = v[i] * v[i] * v[i];
      }
      return List.of(Tensor.of(v, inputs.get(0).shape().dims()));
    });
    OpRegistry.registerGradient("UserCube", (tf, op, grads) -> List.of(grads.get(0).map(
        g -> tf.mul(g, tf.mul(tf.constant(3.0), tf.square(op.input(0)))))));
    OpRegistry.register(new UnaryFloatDef("UserNoGradient"));
  }

  @Test
  void userOpRunsAndDifferentiatesToSecondOrder() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output y = tf.opBuilder("UserCube").addInput(tf.sin(x)).build().output(0);
    Output dy = tf.gradients(y, x).get(0);
    double[] xv = {-1.2, 0.3, 2.0};
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.of(xv, 3)), y, dy);
      double[] ey = new double[3];
      double[] edy = new double[3];
      for (int i = 0; i < 3; i++) {
        double sx = Math.sin(xv[i]);
        ey[i] = sx * sx * sx;
        edy[i] = 3 * sx * sx * Math.cos(xv[i]);
      }
      assertArrayEquals(ey, r.get(0).toDoubleArray(), 1e-12);
      assertArrayEquals(edy, r.get(1).toDoubleArray(), 1e-12);
    }
    Map<Output, Tensor> feed = Map.of(x, Tensor.of(xv, 3));
    GradientChecker.check(y, feed).assertWithin(1e-6);
    GradientChecker.check(dy, feed).assertWithin(1e-6);
  }

  @Test
  void userOpWithoutGradientIsNamed() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output y = tf.withName("mystery").opBuilder("UserNoGradient").addInput(x).build().output(0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, x));
    assertEquals("gradients: no gradient registered for op type 'UserNoGradient' (node 'mystery'), which lies"
        + " between the xs and the ys; register one with OpRegistry.registerGradient", e.getMessage());
  }
}
