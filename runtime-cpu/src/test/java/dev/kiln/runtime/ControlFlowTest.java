package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorArray;
import dev.kiln.graph.Variable;
import dev.kiln.graph.WhileOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** cond and whileLoop run on the CPU: values against plain Java loops, with and without the optimizer. */
class ControlFlowTest {
  private static SessionOptions options(boolean optimize) {
    return SessionOptions.builder().optimize(optimize).build();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aCounterLoopRunsTheFedNumberOfIterations(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), limit),
        v -> List.of(tf.add(v.get(0), tf.constant(1)), tf.add(tf.mul(v.get(1), tf.constant(0.5f)), x)),
        List.of(tf.constant(0), tf.zerosLike(x)));
    try (Session s = new Session(g, options(optimize))) {
      for (int n : new int[] {0, 1, 7}) {
        float[] xv = {1, 2, 4};
        List<Tensor> out = s.run(Map.of(limit, Tensor.scalar(n), x, Tensor.of(xv, 3)), r.get(0), r.get(1));
        assertEquals(n, out.get(0).toIntArray()[0]);
        float[] want = new float[3];
        for (int it = 0; it < n; it++) {
          for (int i = 0; i < 3; i++) {
            want[i] = want[i] * 0.5f + xv[i];
          }
        }
        assertArrayEquals(want, out.get(1).toFloatArray(), 1e-6f);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void condRunsOnlyTheBranchTaken(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output p = tf.placeholder("p", DType.BOOL, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    List<Output> r = tf.cond(p, () -> List.of(tf.square(x), tf.constant(1)), () -> List.of(tf.neg(x), tf.constant(2)));
    try (Session s = new Session(g, options(optimize))) {
      List<Tensor> yes = s.run(Map.of(p, Tensor.scalar(true), x, Tensor.of(new float[] {3, -2}, 2)), r.get(0), r.get(1));
      assertArrayEquals(new float[] {9, 4}, yes.get(0).toFloatArray());
      assertEquals(1, yes.get(1).toIntArray()[0]);
      List<Tensor> no = s.run(Map.of(p, Tensor.scalar(false), x, Tensor.of(new float[] {3, -2}, 2)), r.get(0), r.get(1));
      assertArrayEquals(new float[] {-3, 2}, no.get(0).toFloatArray());
      assertEquals(2, no.get(1).toIntArray()[0]);
    }
  }

  @Test
  void nestedLoopsAndACondInALoop() {
    // sum over i < n of (i even ? sum over j < i of j : -i)
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> {
      Output i = v.get(0);
      Output even = tf.equal(tf.mod(tf.cast(i, DType.FLOAT32), tf.constant(2f)), tf.constant(0f));
      Output term = tf.cond(even, () -> tf.whileLoop(w -> tf.less(w.get(0), i),
          w -> List.of(tf.add(w.get(0), tf.constant(1)), tf.add(w.get(1), w.get(0))),
          List.of(tf.constant(0), tf.constant(0))).subList(1, 2), () -> List.of(tf.neg(i))).get(0);
      return List.of(tf.add(i, tf.constant(1)), tf.add(v.get(1), term));
    }, List.of(tf.constant(0), tf.constant(0)));
    try (Session s = new Session(g)) {
      for (int nv : new int[] {0, 1, 6, 9}) {
        int want = 0;
        for (int i = 0; i < nv; i++) {
          want += i % 2 == 0 ? i * (i - 1) / 2 : -i;
        }
        assertEquals(want, s.run(Map.of(n, Tensor.scalar(nv)), r.get(1)).get(0).toIntArray()[0]);
      }
    }
  }

  @Test
  void maximumIterationsBoundsTheLoop() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    List<Output> r = tf.whileLoop(v -> tf.constant(true), v -> List.of(tf.add(v.get(0), tf.constant(2))),
        List.of(tf.constant(1)), WhileOptions.defaults().maximumIterations(5));
    try (Session s = new Session(g)) {
      assertEquals(11, s.run(Map.of(), r.get(0)).get(0).toIntArray()[0]);
    }
  }

  @Test
  void variablesAreReadInsideBodiesAndRandomOpsDrawFreshValues() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(new float[] {2, 3}));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(3)), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.mul(v.get(1), w), tf.add(v.get(2), tf.mul(tf.oneHot(v.get(0), 3), tf.randomUniform(Shape.of(1), 7)))),
        List.of(tf.constant(0), tf.onesLike(w), tf.constant(new float[3])));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> out = s.run(Map.of(), r.get(1), r.get(2));
      assertArrayEquals(new float[] {8, 27}, out.get(0).toFloatArray());
      float[] rows = out.get(1).toFloatArray();
      assertNotEquals(rows[0], rows[1]);
      assertNotEquals(rows[1], rows[2]);
      for (float v : rows) {
        assertTrue(v >= 0 && v < 1);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void tensorArraysCollectAndReadSequencesInLoops(boolean optimize) {
    // h_t = tanh(x_t * w + h_{t-1}); outputs[t] = h_t, over a sequence fed as [steps, 2]
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    int steps = 4;
    Output xs = tf.placeholder("xs", DType.FLOAT32, Shape.of(steps, 2));
    Output w = tf.constant(new float[] {0.5f, -1.5f});
    dev.kiln.graph.TensorArray inputs = tf.tensorArray(xs);
    dev.kiln.graph.TensorArray outs = tf.tensorArray(DType.FLOAT32, steps, Shape.of(2));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(steps)), v -> {
      Output t = v.get(0);
      Output h = tf.tanh(tf.add(tf.mul(inputs.read(t), w), v.get(1)));
      return List.of(tf.add(t, tf.constant(1)), h, tf.tensorArray(v.get(2)).write(t, h).flow());
    }, List.of(tf.constant(0), tf.constant(new float[2]), outs.flow()));
    Output stacked = tf.tensorArray(r.get(2)).stack();
    float[] x = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f};
    float[] want = new float[8];
    float[] h = new float[2];
    for (int t = 0; t < steps; t++) {
      for (int i = 0; i < 2; i++) {
        h[i] = (float) Math.tanh(x[2 * t + i] * (i == 0 ? 0.5f : -1.5f) + h[i]);
        want[2 * t + i] = h[i];
      }
    }
    try (Session s = new Session(g, options(optimize))) {
      assertArrayEquals(want, s.run(Map.of(xs, Tensor.of(x, steps, 2)), stacked).get(0).toFloatArray(), 1e-6f);
    }
  }

  @Test
  void aTensorArrayIndexOutOfRangeFailsTheRunNamingTheNode() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output i = tf.placeholder("i", DType.INT32, Shape.scalar());
    Output read = tf.tensorArray(tf.constant(new float[] {1, 2, 3})).read(i);
    try (Session s = new Session(g)) {
      assertEquals(3f, s.run(Map.of(i, Tensor.scalar(2)), read).get(0).toFloatArray()[0]);
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> s.run(Map.of(i, Tensor.scalar(3)), read));
      assertEquals("TensorArrayRead 'TensorArrayRead': index 3 is out of range for a tensor array of size 3",
          e.getMessage());
    }
  }

  @Test
  void aTensorArrayWrittenInALoopIsUpdatedInPlace() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(5)), v -> List.of(
        tf.add(v.get(0), tf.constant(1)), tf.tensorArray(v.get(1)).write(v.get(0), x).flow(),
        tf.add(v.get(2), x)), List.of(tf.constant(0), tf.constant(Tensor.of(new float[15], 5, 3)), x));
    dev.kiln.graph.Subgraph body = r.get(0).op().subgraphs().get(1);
    dev.kiln.graph.TensorType f3 = new dev.kiln.graph.TensorType(DType.FLOAT32, Shape.of(3));
    dev.kiln.runtime.exec.Plan plan = dev.kiln.runtime.exec.PlanCompiler.compileBody(null, body, List.of(
        new dev.kiln.graph.TensorType(DType.INT32, Shape.scalar()), new dev.kiln.graph.TensorType(DType.FLOAT32,
            Shape.of(5, 3)), f3, f3), 3);
    // the array and the accumulator are written over their parameters; the counter is read twice
    assertEquals(plan.feedSlots[1], plan.resultSlots[1]);
    assertEquals(plan.feedSlots[2], plan.resultSlots[2]);
    assertNotEquals(plan.feedSlots[0], plan.resultSlots[0]);
    try (Session s = new Session(g)) {
      List<Tensor> out = s.run(Map.of(x, Tensor.of(new float[] {1, 2, 3}, 3)), r.get(1), r.get(2));
      assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3}, out.get(0).toFloatArray());
      assertArrayEquals(new float[] {6, 12, 18}, out.get(1).toFloatArray());
    }
  }

  /**
   * Measured in a fresh JVM, as an application's loop runs: in this test JVM, hundreds of other
   * kernels' shapes and dtypes have gone through the same Vector API call sites first, and where C2
   * then cannot inline them it boxes vectors (768 bytes per iteration of this body) — a property of
   * the elementwise kernels in a polluted JVM, not of the loop.
   */
  @Test
  void aSteadyStateLoopAllocatesNothingPerIteration() throws Exception {
    String javaCommand = ProcessHandle.current().info().command().orElseThrow();
    Process p = new ProcessBuilder(javaCommand, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), LoopAllocationProbe.class.getName())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    String line = out.lines().filter(l -> l.startsWith("extra bytes ")).findFirst().orElseThrow(() -> new AssertionError(out));
    long extra = Long.parseLong(line.substring("extra bytes ".length()).split(" ")[0]);
    // 99,990 more iterations cost (almost) no more allocation than the run itself: under 1 byte per 10 iterations
    assertTrue(extra < 10_000, out);
  }
}
