package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The Fused kernel against plain-Java reference loops written here. */
class FusedKernelTest {
  /** A body over parameters of the given types; {@code build} returns its results. */
  private static Subgraph body(List<DType> dtypes, List<Shape> shapes, Function<List<Output>, List<Output>> build) {
    Graph b = new Graph();
    List<Output> params = new ArrayList<>();
    for (int i = 0; i < dtypes.size(); i++) {
      params.add(b.opBuilder("Parameter", "p" + i).setAttr("dtype", dtypes.get(i)).setAttr("shape", shapes.get(i))
          .build().output(0));
    }
    return new Subgraph(b, params, build.apply(params));
  }

  private static Operation fused(KernelHarness h, Subgraph body, Output... inputs) {
    OperationBuilder ob = h.graph.opBuilder("Fused", "f");
    for (Output in : inputs) {
      ob.addInput(in);
    }
    return ob.addSubgraph(body).build();
  }

  private static Ops ops(Output anyInBody) {
    return Ops.create(anyInBody.graph());
  }

  /** W3's chain y = tanh(exp(-x*x)*0.5 + sigmoid(x))*x - 1. */
  private static Output w3(Output x, DType d) {
    Ops tf = ops(x);
    Output e = tf.exp(tf.neg(tf.mul(x, x)));
    Output a = tf.add(tf.mul(e, tf.constant(0.5, d)), tf.sigmoid(x));
    return tf.sub(tf.mul(tf.tanh(a), x), tf.constant(1.0, d));
  }

  private static double w3Ref(double x) {
    return Math.tanh(Math.exp(-x * x) * 0.5 + 1 / (1 + Math.exp(-x))) * x - 1;
  }

  @Test
  void w3ChainFloatOverManyBlocksAndBothCores() {
    for (int n : new int[] {1, 17, 1023, 1025, 5000, 300_001}) {
      KernelHarness h = new KernelHarness();
      Tensor xv = KernelHarness.randomF32(n, n);
      Output x = h.input(xv);
      Operation f = fused(h, body(List.of(DType.FLOAT32), List.of(Shape.of(n)), p -> List.of(w3(p.get(0), DType.FLOAT32))), x);
      Tensor expected = Ref.tensor(DType.FLOAT32, new int[] {n}, i -> w3Ref(xv.getDouble(i)));
      Ref.assertClose(expected, h.runAll(f).get(0), 2e-6);
    }
  }

  @Test
  void comparisonsAndMaskSelectsInVectorsMatchJavaIncludingNaNAndSignedZero() {
    int n = 1024 + 16 * 2 + 7; // whole blocks, vectors and a tail
    KernelHarness h = new KernelHarness();
    float[] av = KernelHarness.randomF32(21, n).toFloatArray();
    float[] bv = KernelHarness.randomF32(22, n).toFloatArray();
    float[] specials = {Float.NaN, -0f, 0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
    for (int i = 0; i < n; i += 7) {
      av[i] = specials[(i / 7) % specials.length];
      bv[(i * 3) % n] = specials[(i / 7 + 2) % specials.length];
    }
    Output a = h.input(Tensor.of(av, n));
    Output b = h.input(Tensor.of(bv, n));
    // relu's gradient mask select(a > 0, b, zerosLike(b)), its mirror select(a <= b, 0.5, b), and
    // a < b, a == 0, a != b as bool results
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32), List.of(Shape.of(n), Shape.of(n)), p -> {
      Ops tf = ops(p.get(0));
      Output zero = tf.constant(0f);
      Output r0 = tf.select(tf.greater(p.get(0), zero), p.get(1), tf.zerosLike(p.get(1)));
      Output r1 = tf.select(tf.lessEqual(p.get(0), p.get(1)), tf.constant(0.5f), p.get(1));
      return List.of(r0, r1, tf.less(p.get(0), p.get(1)), tf.equal(p.get(0), zero), tf.notEqual(p.get(0), p.get(1)));
    }), a, b);
    List<Tensor> got = h.runAll(f);
    boolean[] less = got.get(2).toBooleanArray();
    boolean[] equal = got.get(3).toBooleanArray();
    boolean[] notEqual = got.get(4).toBooleanArray();
    for (int i = 0; i < n; i++) {
      float x = av[i];
      float y = bv[i];
      assertEquals(Float.floatToIntBits(x > 0 ? y : 0f), Float.floatToIntBits((float) got.get(0).getDouble(i)), "mask at " + i);
      assertEquals(Float.floatToIntBits(x <= y ? 0.5f : y), Float.floatToIntBits((float) got.get(1).getDouble(i)), "select at " + i);
      assertEquals(x < y, less[i], "less at " + i);
      assertEquals(x == 0f, equal[i], "equal at " + i);
      assertEquals(x != y, notEqual[i], "notEqual at " + i);
    }
  }

  @Test
  void rowsComputedInsideTheNextRowAreBitIdentical() {
    int n = 2 * 1024 + 21; // whole blocks, vectors and a tail
    KernelHarness h = new KernelHarness();
    Tensor av = KernelHarness.randomF32(11, n);
    Tensor bv = KernelHarness.randomF32(12, n);
    Output a = h.input(av);
    Output b = h.input(bv);
    Output s = h.input(Tensor.scalar(0.75f));
    // r0 = (-a) * b; r1 = a * b - 3; r2 = a * b + s; r3 = m * m - 1 with m = b * a read twice
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32, DType.FLOAT32),
        List.of(Shape.of(n), Shape.of(n), Shape.scalar()), p -> {
          Ops tf = ops(p.get(0));
          Output r0 = tf.mul(tf.neg(p.get(0)), p.get(1));
          Output r1 = tf.sub(tf.mul(p.get(0), p.get(1)), tf.constant(3f));
          Output r2 = tf.add(tf.mul(p.get(0), p.get(1)), p.get(2));
          Output m = tf.mul(p.get(1), p.get(0));
          Output r3 = tf.sub(tf.mul(m, m), tf.constant(1f));
          return List.of(r0, r1, r2, r3);
        }), a, b, s);
    List<Tensor> got = h.runAll(f);
    for (int i = 0; i < n; i++) {
      float x = (float) av.getDouble(i);
      float y = (float) bv.getDouble(i);
      float m = y * x;
      float[] expected = {-x * y, x * y - 3f, x * y + 0.75f, m * m - 1f};
      for (int r = 0; r < 4; r++) {
        assertEquals(Float.floatToIntBits(expected[r]), Float.floatToIntBits((float) got.get(r).getDouble(i)),
            "result " + r + " at " + i);
      }
    }
  }

  @Test
  void expTimesAConstantInOneRowRoundsAsTwoRows() {
    int n = 1024 + 16 * 3 + 5;
    KernelHarness h = new KernelHarness();
    Tensor av = KernelHarness.randomF32(13, n);
    Output a = h.input(av);
    // r0 = exp(a) (a result: its own row); r1 = exp(a) * 2.5 (the exp computed inside the product's row)
    Operation f = fused(h, body(List.of(DType.FLOAT32), List.of(Shape.of(n)), p -> {
      Ops tf = ops(p.get(0));
      return List.of(tf.exp(p.get(0)), tf.mul(tf.exp(p.get(0)), tf.constant(2.5f)));
    }), a);
    List<Tensor> got = h.runAll(f);
    for (int i = 0; i < n; i++) {
      float e = (float) got.get(0).getDouble(i);
      assertEquals(Math.exp(av.getDouble(i)), e, 2e-7 * Math.exp(av.getDouble(i)), "exp at " + i);
      assertEquals(Float.floatToIntBits(e * 2.5f), Float.floatToIntBits((float) got.get(1).getDouble(i)), "at " + i);
    }
  }

  @Test
  void w3ChainDouble() {
    int n = 4099;
    KernelHarness h = new KernelHarness();
    Tensor xv = KernelHarness.randomF64(3, n);
    Output x = h.input(xv);
    Operation f = fused(h, body(List.of(DType.FLOAT64), List.of(Shape.of(n)), p -> List.of(w3(p.get(0), DType.FLOAT64))), x);
    Tensor expected = Ref.tensor(DType.FLOAT64, new int[] {n}, i -> w3Ref(xv.getDouble(i)));
    Ref.assertClose(expected, h.runAll(f).get(0), 1e-13);
  }

  @Test
  void biasBroadcastAndASmallerResult() {
    int n = 700;
    int k = 37;
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      KernelHarness h = new KernelHarness();
      Tensor xv = KernelHarness.random(d, 1, n, k);
      Tensor bv = KernelHarness.random(d, 2, k);
      Output x = h.input(xv);
      Output b = h.input(bv);
      // r0 = relu(x + b) : [n,k]; r1 = exp(b) * 2 : [k] (depends on the bias only)
      Operation f = fused(h, body(List.of(d, d), List.of(Shape.of(n, k), Shape.of(k)), p -> {
        Ops tf = ops(p.get(0));
        return List.of(tf.relu(tf.add(p.get(0), p.get(1))), tf.mul(tf.exp(p.get(1)), tf.constant(2.0, d)));
      }), x, b);
      List<Tensor> out = h.runAll(f);
      Ref.assertClose(Ref.tensor(d, new int[] {n, k}, i -> Math.max(0, xv.getDouble(i) + bv.getDouble(i % k))), out.get(0), 1e-6);
      Ref.assertClose(Ref.tensor(d, new int[] {k}, i -> Math.exp(bv.getDouble(i)) * 2), out.get(1), 1e-6);
    }
  }

  @Test
  void outerProductBroadcastGathersBothOperandsAcrossBlocks() {
    int n = 300;
    int k = 129;
    KernelHarness h = new KernelHarness();
    Tensor av = KernelHarness.randomF32(5, n, 1);
    Tensor bv = KernelHarness.randomF32(6, 1, k);
    Output a = h.input(av);
    Output b = h.input(bv);
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32), List.of(Shape.of(n, 1), Shape.of(1, k)), p -> {
      Ops tf = ops(p.get(0));
      return List.of(tf.tanh(tf.sub(p.get(0), p.get(1))));
    }), a, b);
    Tensor expected = Ref.tensor(DType.FLOAT32, new int[] {n, k}, i -> Math.tanh(av.getDouble(i / k) - bv.getDouble(i % k)));
    Ref.assertClose(expected, h.runAll(f).get(0), 2e-6);
  }

  @Test
  void scalarInputsAreUniformOperands() {
    int n = 2500;
    KernelHarness h = new KernelHarness();
    Tensor xv = KernelHarness.randomF32(7, n);
    Output x = h.input(xv);
    Output s = h.input(Tensor.scalar(3.0f));
    // y = x * (s * 2 + 1) - exp(s); z = sqrt(s) (a scalar result)
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32), List.of(Shape.of(n), Shape.scalar()), p -> {
      Ops tf = ops(p.get(0));
      Output scale = tf.add(tf.mul(p.get(1), tf.constant(2.0f)), tf.constant(1.0f));
      return List.of(tf.sub(tf.mul(p.get(0), scale), tf.exp(p.get(1))), tf.sqrt(p.get(1)));
    }), x, s);
    List<Tensor> out = h.runAll(f);
    Ref.assertClose(Ref.tensor(DType.FLOAT32, new int[] {n}, i -> xv.getDouble(i) * 7 - Math.exp(3)), out.get(0), 1e-6);
    Ref.assertClose(Ref.tensor(DType.FLOAT32, new int[] {}, i -> Math.sqrt(3)), out.get(1), 1e-7);
  }

  @Test
  void logSinCosPowInABody() {
    // y = log(|x| + 1) + sin(x) * cos(2x) + pow(|x| + 0.5, e) - pow(|x| + 0.5, 1.5): vector lanes in
    // double (VectorMath, WideVectorMath), against Math in double.
    int n = 5003;
    KernelHarness h = new KernelHarness();
    Tensor xv = KernelHarness.randomF32(21, n);
    Tensor ev = KernelHarness.randomF32(22, n);
    Output x = h.input(xv);
    Output e = h.input(ev);
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32), List.of(Shape.of(n), Shape.of(n)), p -> {
      Ops tf = ops(p.get(0));
      Output a = tf.add(tf.abs(p.get(0)), tf.constant(0.5f));
      Output t = tf.add(tf.log(tf.add(tf.abs(p.get(0)), tf.constant(1f))),
          tf.mul(tf.sin(p.get(0)), tf.cos(tf.mul(p.get(0), tf.constant(2f)))));
      return List.of(tf.sub(tf.add(t, tf.pow(a, p.get(1))), tf.pow(a, tf.constant(1.5f))));
    }), x, e);
    Tensor expected = Ref.tensor(DType.FLOAT32, new int[] {n}, i -> {
      double v = xv.getDouble(i);
      double a = Math.abs(v) + 0.5;
      return Math.log(Math.abs(v) + 1) + Math.sin(v) * Math.cos(2 * v) + Math.pow(a, ev.getDouble(i)) - Math.pow(a, 1.5);
    });
    Ref.assertClose(expected, h.runAll(f).get(0), 1e-5);
  }

  @Test
  void castCompareSelectAndIntegerOps() {
    int n = 3000;
    KernelHarness h = new KernelHarness();
    Tensor iv = KernelHarness.randomI32(8, 50, n);
    Tensor jv = KernelHarness.randomI32(9, 50, n);
    Output i = h.input(iv);
    Output j = h.input(jv);
    // f = select(i > j, cast<f64>(i * 3), -cast<f64>(j)); c = i >= 0 (bool); q = i / 7 (int, truncating)
    Operation f = fused(h, body(List.of(DType.INT32, DType.INT32), List.of(Shape.of(n), Shape.of(n)), p -> {
      Ops tf = ops(p.get(0));
      Output sel = tf.select(tf.greater(p.get(0), p.get(1)), tf.cast(tf.mul(p.get(0), tf.constant(3)), DType.FLOAT64),
          tf.neg(tf.cast(p.get(1), DType.FLOAT64)));
      return List.of(sel, tf.greaterEqual(p.get(0), tf.constant(0)), tf.div(p.get(0), tf.constant(7)));
    }), i, j);
    List<Tensor> out = h.runAll(f);
    Ref.assertClose(Ref.tensor(DType.FLOAT64, new int[] {n},
        k -> iv.getDouble(k) > jv.getDouble(k) ? iv.getDouble(k) * 3 : -jv.getDouble(k)), out.get(0), 0);
    Ref.assertClose(Ref.tensor(DType.BOOL, new int[] {n}, k -> iv.getDouble(k) >= 0 ? 1.0 : 0.0), out.get(1), 0);
    Ref.assertClose(Ref.tensor(DType.INT32, new int[] {n}, k -> (double) ((int) iv.getDouble(k) / 7)), out.get(2), 0);
  }

  @Test
  void floatSelectOnARandomMaskTakesTheVectorPathAndItsTail() {
    int n = 1003; // not a multiple of any vector length: the scalar tail runs too
    KernelHarness h = new KernelHarness();
    Tensor xv = KernelHarness.randomF32(11, n);
    Tensor gv = KernelHarness.randomF32(12, n);
    Output x = h.input(xv);
    Output g = h.input(gv);
    // The relu gradient's shape: select(x >= 0, g, zerosLike(g)).
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32), List.of(Shape.of(n), Shape.of(n)), p -> {
      Ops tf = ops(p.get(0));
      return List.of(tf.select(tf.greaterEqual(p.get(0), tf.constant(0f)), p.get(1), tf.zerosLike(p.get(1))));
    }), x, g);
    Ref.assertClose(Ref.tensor(DType.FLOAT32, new int[] {n}, k -> xv.getDouble(k) >= 0 ? gv.getDouble(k) : 0.0),
        h.runAll(f).get(0), 0);
  }

  @Test
  void integerDivisionByZeroNamesTheFusedNode() {
    KernelHarness h = new KernelHarness();
    Output i = h.input(Tensor.of(new int[] {4, 5, 6}, 3));
    Output j = h.input(Tensor.of(new int[] {1, 0, 2}, 3));
    Operation f = fused(h, body(List.of(DType.INT32, DType.INT32), List.of(Shape.of(3), Shape.of(3)), p -> {
      Ops tf = ops(p.get(0));
      return List.of(tf.neg(tf.div(p.get(0), p.get(1))));
    }), i, j);
    ArithmeticException e = assertThrows(ArithmeticException.class, () -> h.runAll(f));
    assertEquals("Fused 'f': integer division by zero", e.getMessage());
  }

  @Test
  void passThroughResultsIdentityAndAddN() {
    int n = 1500;
    KernelHarness h = new KernelHarness();
    Tensor xv = KernelHarness.randomF64(10, 3, n / 3);
    Tensor yv = KernelHarness.randomF64(11, 3, n / 3);
    Output x = h.input(xv);
    Output y = h.input(yv);
    // results: x itself, addN(x, y, identity(x*y)), and the same sum again
    Operation f = fused(h, body(List.of(DType.FLOAT64, DType.FLOAT64), List.of(Shape.of(3, n / 3), Shape.of(3, n / 3)), p -> {
      Ops tf = ops(p.get(0));
      Output s = tf.addN(List.of(p.get(0), p.get(1), tf.identity(tf.mul(p.get(0), p.get(1)))));
      return List.of(p.get(0), s, s);
    }), x, y);
    List<Tensor> out = h.runAll(f);
    Ref.assertClose(xv, out.get(0), 0);
    Tensor sum = Ref.tensor(DType.FLOAT64, new int[] {3, n / 3},
        k -> xv.getDouble(k) + yv.getDouble(k) + xv.getDouble(k) * yv.getDouble(k));
    Ref.assertClose(sum, out.get(1), 1e-15);
    Ref.assertClose(sum, out.get(2), 1e-15);
  }

  @Test
  void emptyTensors() {
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(new float[0], 0, 4));
    Operation f = fused(h, body(List.of(DType.FLOAT32), List.of(Shape.of(0, 4)), p -> List.of(w3(p.get(0), DType.FLOAT32))), x);
    assertEquals(Shape.of(0, 4), h.runAll(f).get(0).shape());
  }

  @Test
  void outputsThatDoNotBroadcastTogetherAreRejectedAtPlanTime() {
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(new float[3], 3));
    Output b = h.input(Tensor.of(new float[5], 5));
    Operation f = fused(h, body(List.of(DType.FLOAT32, DType.FLOAT32), List.of(Shape.of(3), Shape.of(5)), p -> {
      Ops tf = ops(p.get(0));
      return List.of(tf.exp(p.get(0)), tf.neg(p.get(1)));
    }), a, b);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.runAll(f));
    assertEquals("Fused 'f': outputs [3] and [5] do not broadcast to one iteration space", e.getMessage());
  }

  @Test
  void concurrentRunsOfOneFusedPlanEachGetTheirOwnRegisters() throws Exception {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    int n = 200_000; // large enough to split over the cores inside each run
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(n));
    Output y = w3(x, DType.FLOAT32);
    try (Session s = new Session(g)) {
      List<java.util.concurrent.Callable<Void>> jobs = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        int seed = t;
        jobs.add(() -> {
          Tensor xv = KernelHarness.randomF32(100 + seed, n);
          Tensor expected = Ref.tensor(DType.FLOAT32, new int[] {n}, i -> w3Ref(xv.getDouble(i)));
          for (int r = 0; r < 5; r++) {
            Ref.assertClose(expected, s.run(java.util.Map.of(x, xv), y).get(0), 2e-6);
          }
          return null;
        });
      }
      var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
      try {
        for (var f : pool.invokeAll(jobs)) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      assertEquals(2, s.plans().iterator().next().kernels.length, "one Fused kernel and the fetch copy");
    }
  }
}
