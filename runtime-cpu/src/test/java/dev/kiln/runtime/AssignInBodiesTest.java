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
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Variables assigned inside cond and whileLoop bodies: each iteration sees the previous one's assigns;
 * within an iteration a read not ordered after an assign (by a data or control dependency) sees the
 * value from before it, one ordered after it the new value.
 */
class AssignInBodiesTest {
  private static SessionOptions options(boolean optimize) {
    return SessionOptions.builder().optimize(optimize).build();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aCounterIncrementedInALoopCountsItsIterations(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable counter = tf.variable("counter", tf.constant(0));
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output i = tf.whileLoop(v -> tf.less(v.get(0), limit), v -> {
      Output a = tf.assignAdd(counter, tf.constant(1));
      return List.of(tf.withControlDependencies(List.of(a.op())).add(v.get(0), tf.constant(1)));
    }, List.of(tf.constant(0))).get(0);
    try (Session s = new Session(g, options(optimize))) {
      s.run(tf.globalVariablesInitializer());
      assertEquals(7, s.run(Map.of(limit, Tensor.scalar(7)), i).get(0).toIntArray()[0]);
      assertEquals(7, s.run(Map.of(), counter).get(0).toIntArray()[0]);
      s.run(Map.of(limit, Tensor.scalar(3)), i);
      assertEquals(10, s.run(Map.of(), counter).get(0).toIntArray()[0]);
      s.run(Map.of(limit, Tensor.scalar(0)), i);
      assertEquals(10, s.run(Map.of(), counter).get(0).toIntArray()[0]);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void eachIterationSeesThePreviousAssignAndReadsFollowTheirDependencies(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(new float[] {1, 3}));
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    // before: sums w as read with no dependency on the iteration's assign (the value before it);
    // after: sums w as read after it (a control dependency); the assign doubles w.
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), limit), v -> {
      Output before = tf.mul(w, tf.constant(1f));
      Output a = tf.assign(w, tf.mul(w, tf.constant(2f)));
      Output after = tf.withControlDependencies(List.of(a.op())).mul(w, tf.constant(1f));
      Output viaData = tf.mul(a, tf.constant(1f));
      return List.of(tf.add(v.get(0), tf.constant(1)), tf.add(v.get(1), before), tf.add(v.get(2), after),
          tf.add(v.get(3), viaData));
    }, List.of(tf.constant(0), tf.constant(new float[2]), tf.constant(new float[2]), tf.constant(new float[2])));
    try (Session s = new Session(g, options(optimize))) {
      s.run(tf.globalVariablesInitializer());
      int n = 4;
      List<Tensor> out = s.run(Map.of(limit, Tensor.scalar(n)), r.get(1), r.get(2), r.get(3));
      float[] wv = {1, 3};
      float[] before = new float[2];
      float[] after = new float[2];
      for (int it = 0; it < n; it++) {
        for (int k = 0; k < 2; k++) {
          before[k] += wv[k];
          wv[k] *= 2;
          after[k] += wv[k];
        }
      }
      assertArrayEquals(before, out.get(0).toFloatArray());
      assertArrayEquals(after, out.get(1).toFloatArray());
      assertArrayEquals(after, out.get(2).toFloatArray());
      assertArrayEquals(wv, s.run(Map.of(), w).get(0).toFloatArray());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aConditionReadingAVariableTheBodyAssignsSeesEachNewValue(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(1f));
    Output steps = tf.whileLoop(v -> tf.less(tf.mul(w, tf.constant(2f)), tf.constant(20f)), v -> {
      Output a = tf.assignAdd(w, tf.constant(1f));
      return List.of(tf.withControlDependencies(List.of(a.op())).add(v.get(0), tf.constant(1)));
    }, List.of(tf.constant(0)), dev.kiln.graph.WhileOptions.defaults().maximumIterations(100)).get(0);
    try (Session s = new Session(g, options(optimize))) {
      s.run(tf.globalVariablesInitializer());
      // w = 1, 2, ..., 10: nine increments until 2w reaches 20
      assertEquals(9, s.run(Map.of(), steps).get(0).toIntArray()[0]);
      assertEquals(10f, s.run(Map.of(), w).get(0).toFloatArray()[0]);
    }
  }

  @Test
  void anAccumulationLoopAddsIntoAVariableAndTheRunReadsItAfterTheLoop() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable acc = tf.variable("acc", tf.constant(new float[3]));
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output done = tf.whileLoop(v -> tf.less(v.get(0), limit), v -> {
      Output a = tf.assignAdd(acc, tf.mul(x, tf.cast(v.get(0), DType.FLOAT32)));
      return List.of(tf.withControlDependencies(List.of(a.op())).add(v.get(0), tf.constant(1)));
    }, List.of(tf.constant(0))).get(0);
    // read after the loop in the same run: ordered after it by a control dependency
    Output total = tf.withControlDependencies(List.of(done.op())).reduceSum(acc);
    float[] xv = {1, 2, -1};
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      Tensor t = s.run(Map.of(x, Tensor.of(xv, 3), limit, Tensor.scalar(5)), total).get(0);
      float[] want = new float[3];
      for (int i = 0; i < 5; i++) {
        for (int k = 0; k < 3; k++) {
          want[k] += xv[k] * i;
        }
      }
      assertEquals(want[0] + want[1] + want[2], t.toFloatArray()[0], 1e-5f);
      assertArrayEquals(want, s.run(Map.of(), acc).get(0).toFloatArray(), 1e-5f);
    }
  }

  @Test
  void aCondAssignsOnlyInTheBranchTaken() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(10f));
    Output p = tf.placeholder("p", DType.BOOL, Shape.scalar());
    Output r = tf.cond(p, () -> List.of(tf.assignAdd(w, tf.constant(1f))),
        () -> List.of(tf.assignSub(w, tf.constant(3f)))).get(0);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      assertEquals(11f, s.run(Map.of(p, Tensor.scalar(true)), r).get(0).toFloatArray()[0]);
      assertEquals(8f, s.run(Map.of(p, Tensor.scalar(false)), r).get(0).toFloatArray()[0]);
      assertEquals(8f, s.run(Map.of(), w).get(0).toFloatArray()[0]);
    }
  }

  @Test
  void aVariableAssignedInALoopNestedInALoop() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable counter = tf.variable("counter", tf.constant(0));
    Output outer = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(3)), v -> {
      Output inner = tf.whileLoop(u -> tf.less(u.get(0), tf.constant(4)), u -> {
        Output a = tf.assignAdd(counter, tf.constant(1));
        return List.of(tf.withControlDependencies(List.of(a.op())).add(u.get(0), tf.constant(1)));
      }, List.of(tf.constant(0))).get(0);
      return List.of(tf.add(v.get(0), tf.div(inner, inner)));
    }, List.of(tf.constant(0))).get(0);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      assertEquals(3, s.run(Map.of(), outer).get(0).toIntArray()[0]);
      assertEquals(12, s.run(Map.of(), counter).get(0).toIntArray()[0]);
    }
  }

  @Test
  void gradientsThroughALoopThatAssignsAreAClearError() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(1f));
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.scalar());
    Output y = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(2)), v -> {
      Output a = tf.assignAdd(w, tf.constant(1f));
      return List.of(tf.add(v.get(0), tf.constant(1)), tf.mul(v.get(1), a));
    }, List.of(tf.constant(0), x)).get(1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, x));
    assertEquals("gradients: While 'while' assigns variables in its body; gradients through a cond or whileLoop"
        + " that assigns variables are not supported", e.getMessage());
  }
}
