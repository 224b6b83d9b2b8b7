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
}
