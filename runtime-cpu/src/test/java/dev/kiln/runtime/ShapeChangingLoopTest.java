package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.WhileOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Loops whose variables change shape across iterations (declared with shape invariants) run on the CPU. */
class ShapeChangingLoopTest {
  private static SessionOptions options(boolean optimize) {
    return SessionOptions.builder().optimize(optimize).build();
  }

  /** acc = concat([acc, x * (i + 1)], 0) for i < limit, from acc = x: rows x, x, 2x, ..., limit * x. */
  private static List<Output> growingConcat(Ops tf, Output limit, Output x) {
    return tf.whileLoop(v -> tf.less(v.get(0), limit),
        v -> List.of(tf.add(v.get(0), tf.constant(1)),
            tf.concat(List.of(v.get(1), tf.mul(x, tf.cast(tf.add(v.get(0), tf.constant(1)), DType.FLOAT32))), 0)),
        List.of(tf.constant(0), x), WhileOptions.defaults().shapeInvariant(1, Shape.of(-1, 3)));
  }

  private static float[] expectedConcat(float[] x, int limit) {
    float[] want = new float[(limit + 1) * 3];
    for (int r = 0; r <= limit; r++) {
      for (int c = 0; c < 3; c++) {
        want[r * 3 + c] = x[c] * Math.max(r, 1);
      }
    }
    return want;
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aGrowingConcatenationRunsAndFeedsTheRestOfTheRun(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 3));
    List<Output> r = growingConcat(tf, limit, x);
    Output colSums = tf.reduceSum(tf.mul(r.get(1), tf.constant(2f)), new int[] {0}, false);
    Output before = tf.add(x, tf.constant(1f));
    float[] xv = {1, -2, 0.5f};
    try (Session s = new Session(g, options(optimize))) {
      for (int n : new int[] {0, 1, 5, 5, 2}) {
        List<Tensor> out = s.run(Map.of(limit, Tensor.scalar(n), x, Tensor.of(xv, 1, 3)), r.get(0), r.get(1), colSums,
            before);
        assertEquals(n, out.get(0).toIntArray()[0]);
        assertEquals(Shape.of(n + 1, 3), out.get(1).shape());
        float[] want = expectedConcat(xv, n);
        assertArrayEquals(want, out.get(1).toFloatArray(), 1e-6f);
        float[] sums = new float[3];
        for (int i = 0; i < want.length; i++) {
          sums[i % 3] += 2 * want[i];
        }
        assertArrayEquals(sums, out.get(2).toFloatArray(), 1e-5f);
        assertArrayEquals(new float[] {2, -1, 1.5f}, out.get(3).toFloatArray(), 1e-6f);
      }
    }
  }

  @Test
  void theRestOfTheRunAssignsAVariableFromTheLoopsResult() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 3));
    dev.kiln.graph.Variable total = tf.variable("total", tf.constant(0f));
    Output acc = growingConcat(tf, limit, x).get(1);
    Output update = tf.assignAdd(total, tf.reduceSum(acc));
    float[] xv = {1, 2, 3};
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      float want = 0;
      for (int n : new int[] {2, 3}) {
        for (float v : expectedConcat(xv, n)) {
          want += v;
        }
        // the fetched Assign output is the variable's storage, copied out after the loop's tail ran
        try (Result r = s.runner().feed(limit, Tensor.scalar(n)).feed(x, Tensor.of(xv, 1, 3)).fetch(update)
            .runNoCopy()) {
          assertEquals(want, r.get(0).toFloatArray()[0], 1e-4f);
        }
        assertEquals(want, s.run(Map.of(), total).get(0).toFloatArray()[0], 1e-4f);
      }
    }
  }

  @Test
  void aLoopWhoseTripCountDependsOnTheDataGrowsUntilItsConditionFails() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output m = tf.placeholder("m", DType.FLOAT32, Shape.of(2, 3));
    Output grown = tf.whileLoop(v -> tf.less(tf.reduceSum(v.get(0)), tf.constant(100f)),
        v -> List.of(tf.concat(List.of(v.get(0), v.get(0)), 0)), List.of(m),
        WhileOptions.defaults().shapeInvariant(0, Shape.of(-1, 3))).get(0);
    float[] mv = {1, 2, 3, 4, 5, 6};
    try (Session s = new Session(g)) {
      Tensor out = s.run(Map.of(m, Tensor.of(mv, 2, 3)), grown).get(0);
      // 21 -> 42 -> 84 -> 168: three doublings, eight copies of m
      assertEquals(Shape.of(16, 3), out.shape());
      float[] want = new float[48];
      for (int i = 0; i < want.length; i++) {
        want[i] = mv[i % 6];
      }
      assertArrayEquals(want, out.toFloatArray());
    }
  }

  @Test
  void twoShapeChangingLoopsInOneRunTheSecondReadingTheFirst() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 3));
    Output first = growingConcat(tf, limit, x).get(1);
    // the second loop drops the first row until one is left
    Output second = tf.whileLoop(v -> tf.greater(tf.reduceSum(tf.onesLike(tf.slice(v.get(0), new int[] {0, 0},
        new int[] {-1, 1}))), tf.constant(1f)),
        v -> List.of(tf.slice(v.get(0), new int[] {1, 0}, new int[] {-1, -1})), List.of(first),
        WhileOptions.defaults().shapeInvariant(0, Shape.of(-1, 3))).get(0);
    Output scaled = tf.mul(second, tf.constant(10f));
    float[] xv = {1, 2, 3};
    try (Session s = new Session(g)) {
      for (int n : new int[] {3, 4}) {
        List<Tensor> out = s.run(Map.of(limit, Tensor.scalar(n), x, Tensor.of(xv, 1, 3)), first, scaled);
        assertArrayEquals(expectedConcat(xv, n), out.get(0).toFloatArray(), 1e-6f);
        float[] want = {10 * xv[0] * n, 10 * xv[1] * n, 10 * xv[2] * n};
        assertEquals(Shape.of(1, 3), out.get(1).shape());
        assertArrayEquals(want, out.get(1).toFloatArray(), 1e-4f);
      }
    }
  }

  @Test
  void aShapeChangingLoopInsideAnotherLoopIsAClearError() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 3));
    Output outer = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(2)), v -> {
      Output inner = growingConcat(tf, tf.constant(2), x).get(1);
      return List.of(tf.add(v.get(0), tf.constant(1)), tf.add(v.get(1), tf.reduceSum(inner)));
    }, List.of(tf.constant(0), tf.constant(0f))).get(1);
    try (Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.run(Map.of(x, Tensor.of(new float[] {1, 2, 3}, 1, 3)), outer));
      assertEquals("While 'while': a loop variable changes shape across iterations inside another loop or"
          + " conditional; the CPU runtime runs such loops only at a run's top level", e.getMessage());
    }
  }

  @Test
  void gradientsThroughAGrowingConcatenationAreAClearBuildError() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1, 3));
    Output acc = growingConcat(tf, tf.constant(2), x).get(1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.gradients(tf.reduceSum(acc), x));
    assertEquals("gradients: the gradient of Concat 'Concat' needs the size of input 0 along axis 0, which is unknown:"
        + " [?,3]", e.getMessage());
  }
}
