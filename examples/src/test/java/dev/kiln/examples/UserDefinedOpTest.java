package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.GradientChecker;
import dev.kiln.runtime.Session;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UserDefinedOpTest {
  @Test
  void softplusRunsAndDifferentiatesTwice() {
    UserDefinedOp.register();
    UserDefinedOp.register(); // once per process, whoever calls first
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output y = UserDefinedOp.softplus(tf, x);
    Output dy = tf.gradients(y, x).get(0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.opBuilder(UserDefinedOp.SOFTPLUS).addInput(x).setAttr("beta", 2.0));
    assertEquals("MySoftplus 'MySoftplus_1': unknown attribute 'beta' (MySoftplus takes no attributes)", e.getMessage());
    double[] xs = {-3, 0.25, 40};
    Map<Output, Tensor> feed = Map.of(x, Tensor.of(xs, 3));
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(feed, y, dy);
      double[] ey = new double[3];
      double[] edy = new double[3];
      for (int i = 0; i < 3; i++) {
        ey[i] = Math.log(1 + Math.exp(xs[i]));
        edy[i] = 1 / (1 + Math.exp(-xs[i]));
      }
      assertArrayEquals(ey, r.get(0).toDoubleArray(), 1e-12);
      assertArrayEquals(edy, r.get(1).toDoubleArray(), 1e-12);
    }
    Map<Output, Tensor> small = Map.of(x, Tensor.of(new double[] {-1.5, 0.1, 2}, 3));
    GradientChecker.check(y, small).assertWithin(1e-6);
    GradientChecker.check(dy, small).assertWithin(1e-6);
  }
}
