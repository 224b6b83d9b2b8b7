package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorArray;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Gradients through cond and whileLoop agree with central differences (GradientChecker). */
class ControlFlowGradientTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  private static Tensor random(long seed, int... dims) {
    Random r = new Random(seed);
    int n = 1;
    for (int d : dims) {
      n *= d;
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextDouble() - 0.5;
    }
    return Tensor.of(v, dims);
  }

  @Test
  void condGradientFollowsTheBranchTaken() {
    Output p = tf.placeholder("p", DType.BOOL, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(3));
    Output y = tf.cond(p, () -> List.of(tf.mul(tf.mul(x, x), w)), () -> List.of(tf.sin(x))).get(0);
    for (boolean b : new boolean[] {true, false}) {
      GradientChecker.check(y, Map.of(x, random(1, 3), w, random(2, 3)), Map.of(p, Tensor.scalar(b)))
          .assertWithin(1e-6);
    }
  }

  @Test
  void secondOrderThroughCond() {
    Output p = tf.placeholder("p", DType.BOOL, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output y = tf.cond(p, () -> List.of(tf.mul(tf.mul(x, x), x)), () -> List.of(tf.sin(x))).get(0);
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);
    for (boolean b : new boolean[] {true, false}) {
      GradientChecker.check(dx, Map.of(x, random(3, 3)), Map.of(p, Tensor.scalar(b))).assertWithin(1e-6);
    }
  }

  @Test
  void whileGradientWithTheTripCountFedAtRunTime() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2, 3));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(3, 3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n),
        v -> List.of(tf.add(v.get(0), tf.constant(1)), tf.tanh(tf.add(tf.matmul(v.get(1), w), x))),
        List.of(tf.constant(0), x));
    for (int trips : new int[] {0, 1, 5}) {
      GradientChecker.check(r.get(1), Map.of(x, random(4, 2, 3), w, random(5, 3, 3)), Map.of(n, Tensor.scalar(trips)))
          .assertWithin(1e-6);
    }
  }

  @Test
  void secondOrderThroughALoopWithTheTripCountFedAtRunTime() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n),
        v -> List.of(tf.add(v.get(0), tf.constant(1)), tf.mul(tf.mul(v.get(1), v.get(1)), v.get(1))),
        List.of(tf.constant(0), x));
    Output dx = tf.gradients(tf.reduceSum(r.get(1)), x).get(0);
    Tensor x0 = Tensor.of(new double[] {0.9, -0.8, 1.05}, 3);
    for (int trips : new int[] {0, 1, 3}) {
      GradientChecker.check(dx, Map.of(x, x0), Map.of(n, Tensor.scalar(trips))).assertWithin(1e-5);
    }
    // the Hessian of sum(x^(3^n)) is diagonal: 3^n (3^n - 1) x^(3^n - 2)
    Output hessianDiagonal = tf.gradients(tf.reduceSum(dx), x).get(0);
    try (Session s = new Session(g)) {
      for (int trips : new int[] {0, 1, 3}) {
        double p = Math.pow(3, trips);
        double[] want = new double[3];
        for (int i = 0; i < 3; i++) {
          want[i] = p * (p - 1) * Math.pow(x0.toDoubleArray()[i], p - 2);
        }
        double[] got = s.run(Map.of(x, x0, n, Tensor.scalar(trips)), hessianDiagonal).get(0).toDoubleArray();
        for (int i = 0; i < 3; i++) {
          assertEquals(want[i], got[i], 1e-9 * Math.max(1, Math.abs(want[i])));
        }
      }
    }
  }

  @Test
  void secondOrderThroughALoopNestedInALoop() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(3));
    // the inner loop runs i + 1 times in outer iteration i
    Output y = tf.whileLoop(v -> tf.less(v.get(0), n), v -> {
      Output inner = tf.whileLoop(u -> tf.less(u.get(0), tf.add(v.get(0), tf.constant(1))),
          u -> List.of(tf.add(u.get(0), tf.constant(1)), tf.sin(tf.add(tf.mul(u.get(1), x), w))),
          List.of(tf.constant(0), v.get(1))).get(1);
      return List.of(tf.add(v.get(0), tf.constant(1)), tf.mul(inner, v.get(1)));
    }, List.of(tf.constant(0), x)).get(1);
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);
    for (int trips : new int[] {0, 1, 3}) {
      GradientChecker.check(dx, Map.of(x, random(8, 3), w, random(9, 3)), Map.of(n, Tensor.scalar(trips)))
          .assertWithin(1e-5);
    }
  }

  @Test
  void thirdOrderThroughALoop() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n),
        v -> List.of(tf.add(v.get(0), tf.constant(1)), tf.mul(tf.mul(v.get(1), v.get(1)), v.get(1))),
        List.of(tf.constant(0), x));
    Output d = r.get(1);
    for (int order = 0; order < 3; order++) {
      d = tf.gradients(tf.reduceSum(d), x).get(0);
    }
    double[] x0 = {0.9, -0.8, 1.05};
    try (Session s = new Session(g)) {
      for (int trips : new int[] {0, 1, 2}) {
        // the third derivative of x^p, p = 3^n
        double p = Math.pow(3, trips);
        double[] got = s.run(Map.of(x, Tensor.of(x0, 3), n, Tensor.scalar(trips)), d).get(0).toDoubleArray();
        for (int i = 0; i < 3; i++) {
          double want = p * (p - 1) * (p - 2) * Math.pow(x0[i], p - 3);
          assertEquals(want, got[i], 1e-9 * Math.max(1, Math.abs(want)));
        }
      }
    }
  }

  @Test
  void secondOrderThroughACondInsideALoop() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> {
      Output i = v.get(0);
      Output h = tf.cond(tf.less(i, tf.constant(2)), () -> List.of(tf.mul(v.get(1), tf.sin(v.get(1)))),
          () -> List.of(tf.tanh(tf.mul(v.get(1), x)))).get(0);
      return List.of(tf.add(i, tf.constant(1)), h);
    }, List.of(tf.constant(0), x));
    Output dx = tf.gradients(tf.reduceSum(r.get(1)), x).get(0);
    for (int trips : new int[] {0, 1, 3}) {
      GradientChecker.check(dx, Map.of(x, random(21, 3)), Map.of(n, Tensor.scalar(trips))).assertWithin(1e-5);
    }
  }

  @Test
  void secondOrderThroughALoopCarryingTwoValuesAndACapture() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output y = tf.placeholder("y", DType.FLOAT64, Shape.of(3));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n),
        v -> List.of(tf.add(v.get(0), tf.constant(1)), tf.sin(tf.mul(tf.mul(v.get(1), v.get(2)), w)),
            tf.add(tf.mul(v.get(1), w), tf.tanh(v.get(2)))),
        List.of(tf.constant(0), x, y));
    Output loss = tf.add(tf.reduceSum(tf.mul(r.get(1), r.get(1))), tf.reduceSum(tf.mul(r.get(2), w)));
    List<Output> d = tf.gradients(loss, List.of(x, y, w));
    Output all = tf.concat(d, 0);
    for (int trips : new int[] {0, 1, 3}) {
      GradientChecker.check(all, Map.of(x, random(11, 3), y, random(12, 3), w, random(13, 3)),
          Map.of(n, Tensor.scalar(trips))).assertWithin(1e-5);
    }
  }

  @Test
  void nestedLoopsAndACondInALoop() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> {
      Output i = v.get(0);
      Output inner = tf.whileLoop(u -> tf.less(u.get(0), i),
          u -> List.of(tf.add(u.get(0), tf.constant(1)), tf.add(tf.mul(u.get(1), tf.constant(0.5, DType.FLOAT64)), x)),
          List.of(tf.constant(0), v.get(1))).get(1);
      Output even = tf.equal(tf.mod(tf.cast(i, DType.FLOAT64), tf.constant(2.0)), tf.constant(0.0));
      Output next = tf.cond(even, () -> List.of(tf.sin(inner)), () -> List.of(tf.mul(inner, x))).get(0);
      return List.of(tf.add(i, tf.constant(1)), next);
    }, List.of(tf.constant(0), x));
    GradientChecker.check(r.get(1), Map.of(x, random(6, 3)), Map.of(n, Tensor.scalar(4))).assertWithin(1e-6);
  }

  @Test
  void aLoopWhoseTripCountDependsOnTheData() {
    // doubles h until its sum passes 10: the trip count depends on x (constant near the values checked)
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(tf.reduceSum(v.get(0)), tf.constant(10.0)),
        v -> List.of(tf.add(tf.mul(v.get(0), tf.constant(2.0)), tf.mul(w, w))), List.of(x));
    GradientChecker.check(r.get(0), Map.of(x, Tensor.of(new double[] {0.3, 0.2, 0.4}, 3),
        w, Tensor.of(new double[] {0.1, -0.2, 0.3}, 3))).assertWithin(1e-6);
  }

  @Test
  void tensorArraysInALoopCarryGradients() {
    int steps = 4;
    Output xs = tf.placeholder("xs", DType.FLOAT64, Shape.of(steps, 2, 3));
    Output w = tf.placeholder("w", DType.FLOAT64, Shape.of(3, 3));
    TensorArray inputs = tf.tensorArray(xs);
    Output h0 = tf.zerosLike(inputs.read(0));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(steps)), v -> {
      Output t = v.get(0);
      Output h = tf.tanh(tf.add(tf.matmul(v.get(1), w), inputs.read(t)));
      return List.of(tf.add(t, tf.constant(1)), h, tf.tensorArray(v.get(2)).write(t, tf.mul(h, h)).flow());
    }, List.of(tf.constant(0), h0, tf.tensorArray(steps, h0).flow()));
    GradientChecker.check(tf.tensorArray(r.get(2)).stack(), Map.of(xs, random(7, steps, 2, 3), w, random(8, 3, 3)))
        .assertWithin(1e-6);
    // what each iteration read from the input array is summed one element at a time
    org.junit.jupiter.api.Assertions.assertTrue(g.toText().contains("= TensorArrayAccumulate("));
  }

  @Test
  void variablesUsedInBodiesAndStopGradient() {
    Variable w = tf.variable("w", tf.constant(Tensor.of(new double[] {0.5, -0.3}, 2)));
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2));
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.add(tf.mul(v.get(1), w), tf.stopGradient(tf.mul(v.get(1), x)))), List.of(tf.constant(0), x));
    Output loss = tf.reduceSum(r.get(1));
    List<Output> grads = tf.gradients(loss, List.of(w, x));
    // the same computation unrolled three times
    Output h = x;
    for (int i = 0; i < 3; i++) {
      h = tf.add(tf.mul(h, w), tf.stopGradient(tf.mul(h, x)));
    }
    List<Output> want = tf.gradients(tf.reduceSum(h), List.of(w, x));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      Map<Output, Tensor> feeds = Map.of(x, Tensor.of(new double[] {1.5, 0.7}, 2), n, Tensor.scalar(3));
      List<Tensor> got = s.run(feeds, grads.get(0), grads.get(1), want.get(0), want.get(1));
      assertArrayEquals(got.get(2).toDoubleArray(), got.get(0).toDoubleArray(), 1e-12);
      assertArrayEquals(got.get(3).toDoubleArray(), got.get(1).toDoubleArray(), 1e-12);
      assertEquals(2, got.get(0).size());
    }
  }

  @Test
  void theForwardLoopAndItsGradientCopyRunAsOneLoop() {
    // With a random draw per iteration, the loss and its gradient agree only if one loop computes both.
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(4));
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.add(v.get(1), tf.randomUniform(Shape.of(4), DType.FLOAT64, 3))), List.of(tf.constant(0), x));
    Output h = r.get(1);
    Output dx = tf.gradients(tf.reduceSum(tf.mul(h, h)), x).get(0);
    try (Session s = new Session(g)) {
      List<Tensor> out = s.run(Map.of(x, Tensor.of(new double[] {1, 2, 3, 4}, 4), n, Tensor.scalar(5)), h, dx);
      double[] hv = out.get(0).toDoubleArray();
      double[] want = new double[4];
      for (int i = 0; i < 4; i++) {
        want[i] = 2 * hv[i];
        org.junit.jupiter.api.Assertions.assertTrue(hv[i] > i + 1 && hv[i] < i + 6, "drew values in [0,1)");
      }
      assertArrayEquals(want, out.get(1).toDoubleArray(), 1e-12);
    }
    dev.kiln.optimizer.Program optimized = dev.kiln.runtime.exec.PlanCompiler.optimize(
        new dev.kiln.optimizer.Program(g, List.of(h, dx), List.of(), java.util.Set.of(x, n)), SessionOptions.defaults());
    // the gradient copy and the backward loop; the forward loop itself is gone
    assertEquals(List.of("x_forward", "x_backward"), optimized.graph().operations().stream()
        .filter(o -> o.type().equals("While")).map(o -> o.name().replaceAll(".*/while(_\\d+)?", "x")).toList());
  }
}
