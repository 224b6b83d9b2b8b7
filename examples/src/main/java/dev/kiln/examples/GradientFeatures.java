package dev.kiln.examples;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Symbolic differentiation feature by feature, each printed with the value it should have. */
public final class GradientFeatures {
  private GradientFeatures() {}

  public static void main(String[] args) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.scalar());
    Output v = tf.placeholder("v", DType.FLOAT64, Shape.of(3));

    // 1. d(x^2)/dx at x = 2.
    Output dSquare = tf.gradients(tf.square(x), x).get(0);
    // 2. stopGradient: y = x * stop(x) has value x^2, but the gradient treats stop(x) as a constant.
    Output dStopped = tf.gradients(tf.mul(x, tf.stopGradient(x)), x).get(0);
    // 3. A second derivative: d2/dx2 sin(x*x) = 2 cos(x^2) - 4 x^2 sin(x^2).
    Output dSin = tf.gradients(tf.sin(tf.mul(x, x)), x).get(0);
    Output d2Sin = tf.gradients(dSin, x).get(0);
    // 4. gradYs: the gradient flowing into a non-scalar y, like y.backward(gradient) in PyTorch.
    Output cube = tf.mul(v, tf.square(v));
    Output seed = tf.constant(Tensor.of(new double[] {1, 10, 100}, 3));
    Output dCube = tf.gradients(List.of(cube), List.of(v), List.of(seed)).get(0);
    // 5. Unconnected: y does not depend on v, so its gradient is zeros of v's shape.
    Output dNone = tf.gradients(tf.square(x), v).get(0);

    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(x, Tensor.scalar(2.0), v, Tensor.of(new double[] {1, 2, 3}, 3)),
          dSquare, dStopped, dSin, d2Sin, dCube, dNone);
      double x2 = 4;
      System.out.printf("d(x^2)/dx at x=2                     = %s   (expected 4)%n", r.get(0).doubleValue());
      System.out.printf("d(x * stopGradient(x))/dx at x=2     = %s   (expected 2, not 4)%n", r.get(1).doubleValue());
      System.out.printf("d sin(x^2)/dx at x=2                 = %.9f   (expected %.9f)%n", r.get(2).doubleValue(),
          2 * 2 * Math.cos(x2));
      System.out.printf("d2 sin(x^2)/dx2 at x=2               = %.9f   (expected %.9f)%n", r.get(3).doubleValue(),
          2 * Math.cos(x2) - 4 * x2 * Math.sin(x2));
      System.out.printf("v^3 at v=[1,2,3], gradYs=[1,10,100]  = %s   (expected [3.0, 120.0, 2700.0])%n",
          Arrays.toString(r.get(4).toDoubleArray()));
      System.out.printf("d(x^2)/dv (v unused)                 = %s   (expected zeros)%n",
          Arrays.toString(r.get(5).toDoubleArray()));
    }
  }
}
