package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Gradient steps the optimizer turns into one Gemm written into the variable (fuse_matmul_update):
 * the values are those of plain loops written here, every read of the variable in the run sees the
 * value it must (before the assign, or after it where a control dependency says so), and the step
 * costs one kernel.
 */
class MatMulUpdateSessionTest {
  private static final SessionOptions OFF = SessionOptions.builder().optimize(false).build();

  /** Row-major [rows, cols] values from a seed. */
  private static double[] values(long seed, int n) {
    java.util.Random r = new java.util.Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextInt(17) / 8.0 - 1; // exact in f32: sums of products are exact too
    }
    return v;
  }

  /** op(a) [m,k] times op(b) [k,n], in doubles. */
  private static double[] matmul(double[] a, double[] b, int m, int k, int n, boolean ta, boolean tb) {
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  private static void assertClose(double[] want, Tensor got, String what) {
    assertEquals(want.length, got.size(), what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got.getDouble(i), 1e-5 * (1 + Math.abs(want[i])), what + " element " + i);
    }
  }

  private static Tensor tensor(DType d, double[] v, int... dims) {
    return Ref.tensor(d, v, dims);
  }

  @Test
  void aGradientStepIsOneGemmWrittenIntoTheVariable() {
    int n = 7;
    int din = 6;
    int dout = 5;
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      double[] w0 = values(1, din * dout);
      double[] xv = values(2, n * din);
      double[] dv = values(3, n * dout);
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output x = tf.placeholder("x", d, Shape.of(-1, din));
      Output delta = tf.placeholder("d", d, Shape.of(-1, dout));
      Variable w = tf.variable("w", tf.constant(tensor(d, w0, din, dout)));
      Output lr = tf.constant(d == DType.FLOAT32 ? Tensor.scalar(0.25f) : Tensor.scalar(0.25));
      Output newW = tf.assign(w, tf.sub(w, tf.mul(lr, tf.matmul(x, delta, true, false))));
      Output before = tf.matmul(x, w); // same run, not ordered after the assign: the old w
      Output after = tf.withControlDependencies(List.of(newW.op())).neg(w); // the new w
      Map<Output, Tensor> feeds = Map.of(x, tensor(d, xv, n, din), delta, tensor(d, dv, n, dout));
      for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
        try (Session s = new Session(g, o)) {
          s.run(w.initializer());
          double[] old = w0.clone();
          for (int step = 0; step < 3; step++) {
            List<Tensor> r = s.run(feeds, newW, before, after);
            double[] grad = matmul(xv, dv, din, n, dout, true, false);
            double[] want = new double[old.length];
            for (int i = 0; i < want.length; i++) {
              want[i] = old[i] - 0.25 * grad[i];
            }
            String what = d + " " + (o.optimize() ? "optimized" : "unoptimized") + " step " + step;
            assertClose(want, r.get(0), what + " new w");
            assertClose(matmul(xv, old, n, din, dout, false, false), r.get(1), what + " read before the assign");
            double[] neg = want.clone();
            for (int i = 0; i < neg.length; i++) {
              neg[i] = -neg[i];
            }
            assertClose(neg, r.get(2), what + " read after the assign");
            assertClose(want, s.variableValue(w), what + " variable");
            old = want;
          }
          if (o.optimize()) {
            // Gemm (into w), the MatMul and the Neg, and three fetch copies: no gradient, no Sub, no
            // Assign copy.
            assertEquals(6, kernelsOfTheStep(s), d + " kernels");
          }
        }
      }
    }
  }

  @Test
  void theVariableAsAnOperandOfItsOwnUpdate() {
    // w <- w - 0.5 * w x: the Gemm reads w as a factor, so it cannot accumulate into w's storage.
    int k = 4;
    double[] w0 = values(4, k * k);
    double[] xv = values(5, k * k);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(tensor(DType.FLOAT32, w0, k, k)));
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(k, k));
    Output newW = tf.assign(w, tf.sub(w, tf.mul(tf.matmul(w, x), tf.constant(0.5f))));
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        s.run(w.initializer());
        double[] old = w0.clone();
        for (int step = 0; step < 2; step++) {
          Tensor got = s.run(Map.of(x, tensor(DType.FLOAT32, xv, k, k)), newW).get(0);
          double[] p = matmul(old, xv, k, k, k, false, false);
          double[] want = new double[old.length];
          for (int i = 0; i < want.length; i++) {
            want[i] = old[i] - 0.5 * p[i];
          }
          assertClose(want, got, o + " step " + step);
          old = want;
        }
      }
    }
  }

  @Test
  void anAssignSubTargetWithAReaderInTheSameRun() {
    // tf.train's form: assignSub(w, lr * x^T d) as a target of a group, the loss-like reader fetched.
    int n = 3;
    double[] w0 = values(6, 4 * 2);
    double[] xv = values(7, n * 4);
    double[] dv = values(8, n * 2);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 4));
    Output delta = tf.placeholder("d", DType.FLOAT32, Shape.of(-1, 2));
    Variable w = tf.variable("w", tf.constant(tensor(DType.FLOAT32, w0, 4, 2)));
    Output sum = tf.reduceSum(w);
    Operation train = tf.group(tf.assignSub(w, tf.mul(tf.constant(0.125f), tf.matmul(x, delta, true, false))).op());
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(g, o)) {
        s.run(w.initializer());
        double[] old = w0.clone();
        for (int step = 0; step < 2; step++) {
          Tensor got = s.runner().feed(x, tensor(DType.FLOAT32, xv, n, 4)).feed(delta, tensor(DType.FLOAT32, dv, n, 2))
              .fetch(sum).addTarget(train).run().get(0);
          double total = 0;
          for (double v : old) {
            total += v;
          }
          assertEquals(total, got.getDouble(0), 1e-5, o + " the sum reads w before the update");
          double[] grad = matmul(xv, dv, 4, n, 2, true, false);
          double[] want = new double[old.length];
          for (int i = 0; i < want.length; i++) {
            want[i] = old[i] - 0.125 * grad[i];
          }
          assertClose(want, s.variableValue(w), o + " step " + step);
          old = want;
        }
      }
    }
  }

  /** Kernels of the plan that runs the step (the initializer's plan has one). */
  private static int kernelsOfTheStep(Session s) {
    return s.plans().stream().mapToInt(p -> p.kernels.length).max().orElseThrow();
  }

  @Test
  void aReluMlpTrainedWithTheOptimizerMatchesItTrainedWithout() {
    // W2's shape in small: relu(x w1 + b1) w2 + b2, softmax cross-entropy, tf.gradients, assignSub
    // updates. Optimized, the relus fuse into the MatMuls (their gradient masks read the fused
    // output) and the weight updates are Gemms into the variables: same losses and weights.
    int batch = 6;
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 5));
    Output labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
    Variable w1 = tf.variable("w1", tf.constant(tensor(DType.FLOAT32, values(9, 5 * 7), 5, 7)));
    Variable b1 = tf.variable("b1", tf.constant(tensor(DType.FLOAT32, values(10, 7), 7)));
    Variable w2 = tf.variable("w2", tf.constant(tensor(DType.FLOAT32, values(11, 7 * 3), 7, 3)));
    Variable b2 = tf.variable("b2", tf.constant(tensor(DType.FLOAT32, values(12, 3), 3)));
    Output h = tf.relu(tf.add(tf.matmul(x, w1), b1));
    Output logits = tf.add(tf.matmul(h, w2), b2);
    Output picked = tf.reduceSum(tf.mul(tf.oneHot(labels, 3), tf.logSoftmax(logits, 1)), new int[] {1}, false);
    Output loss = tf.neg(tf.reduceMean(picked));
    List<Output> params = List.of(w1, b1, w2, b2);
    List<Output> grads = tf.gradients(loss, params);
    Operation[] updates = new Operation[params.size()];
    for (int i = 0; i < updates.length; i++) {
      updates[i] = tf.assignSub((Variable) params.get(i), tf.mul(tf.constant(0.1f), grads.get(i))).op();
    }
    Operation train = tf.group(updates);
    Tensor xv = tensor(DType.FLOAT32, values(13, batch * 5), batch, 5);
    Tensor lv = Tensor.of(new int[] {0, 2, 1, 1, 0, 2}, batch);
    List<List<Tensor>> results = new java.util.ArrayList<>();
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      List<Tensor> r = new java.util.ArrayList<>();
      try (Session s = new Session(g, o)) {
        s.run(tf.globalVariablesInitializer());
        for (int step = 0; step < 4; step++) {
          r.add(s.runner().feed(x, xv).feed(labels, lv).fetch(loss).addTarget(train).run().get(0));
        }
        for (Output p : params) {
          r.add(s.variableValue((Variable) p));
        }
      }
      results.add(r);
    }
    assertTrue(results.get(0).get(3).getDouble(0) < results.get(0).get(0).getDouble(0), "training lowers the loss");
    dev.kiln.optimizer.Program optimized = dev.kiln.optimizer.Optimizer.defaultPipeline(CpuConstantEvaluator.instance(),
        CpuKernels.registry(), java.util.Set.of()).run(new dev.kiln.optimizer.Program(g, List.of(loss), List.of(train), java.util.Set.of(x, labels)));
    List<String> types = optimized.graph().operations().stream().map(Operation::type).toList();
    assertEquals(0, types.stream().filter(t -> t.equals("Relu")).count(), types.toString());
    assertEquals(2, types.stream().filter(t -> t.equals("Gemm")).count(), types.toString());
    assertEquals(List.of("relu", "none"), optimized.graph().operations().stream().filter(op -> op.type().equals("FusedMatMul"))
        .map(op -> op.attrs().getString("activation")).toList());
    for (int i = 0; i < results.get(0).size(); i++) {
      Tensor on = results.get(0).get(i);
      Tensor off = results.get(1).get(i);
      for (int k = 0; k < on.size(); k++) {
        assertEquals(off.getDouble(k), on.getDouble(k), 1e-5 * (1 + Math.abs(off.getDouble(k))), "value " + i + " element " + k);
      }
    }
  }
}
