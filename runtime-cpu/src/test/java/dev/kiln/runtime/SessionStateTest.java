package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

/** Session semantics that need no kernel library: feeds, fetches, variables, assigns, views, random. */
class SessionStateTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  @Test
  void feedIdentityFetch() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 2));
    Output y = tf.identity(x);
    Output r = tf.reshape(y, 4);
    try (Session s = new Session(g)) {
      Tensor xv = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
      List<Tensor> out = s.run(Map.of(x, xv), y, r, x, y);
      assertEquals(xv, out.get(0));
      assertEquals(Tensor.of(new float[] {1, 2, 3, 4}, 4), out.get(1));
      assertEquals(xv, out.get(2));
      assertEquals(xv, out.get(3));
      assertNotSame(out.get(0), out.get(3));
      // a fetched tensor is the caller's: not the fed array, not overwritten by later runs
      List<Tensor> again = s.run(Map.of(x, Tensor.of(new float[] {9, 9}, 1, 2)), y);
      assertEquals(Tensor.of(new float[] {9, 9}, 1, 2), again.get(0));
      assertEquals(xv, out.get(0));
    }
  }

  @Test
  void variablesPersistAndAssignsApplyInCreationOrder() {
    Variable v = tf.variable("v", tf.constant(new float[] {1, 2}));
    Output add = tf.assignAdd(v, tf.constant(new float[] {10, 20}));
    Output set = tf.assign(v, tf.constant(new float[] {5, 6}));
    Output sub = tf.assignSub(v, tf.constant(new float[] {1, 1}));
    try (Session s = new Session(g)) {
      s.run(v.initializer());
      assertEquals(Tensor.of(new float[] {1, 2}, 2), s.variableValue(v));
      s.runner().addTarget(add.op()).run();
      s.runner().addTarget(add.op()).run();
      assertEquals(Tensor.of(new float[] {21, 42}, 2), s.variableValue(v));
      // Fetched in any order, the three assigns apply in creation order: +10/+20, =5/6, -1/-1.
      // Each fetch is copied right after its assign, before the next one changes the variable.
      List<Tensor> out = s.run(Map.of(), sub, set, add);
      assertEquals(Tensor.of(new float[] {4, 5}, 2), s.variableValue(v));
      assertEquals(Tensor.of(new float[] {4, 5}, 2), out.get(0));
      assertEquals(Tensor.of(new float[] {5, 6}, 2), out.get(1));
      assertEquals(Tensor.of(new float[] {31, 62}, 2), out.get(2));
    }
  }

  @Test
  void readsSeeTheValueFromBeforeTheRunsAssignsUnlessOrderedAfter() {
    Variable v = tf.variable("v", tf.constant(new float[] {1, 2}));
    Output read = tf.identity(v);
    Output newV = tf.assign(v, tf.constant(new float[] {7, 8}));
    Output after = tf.withControlDependencies(List.of(newV.op())).identity(v);
    try (Session s = new Session(g)) {
      s.run(v.initializer());
      List<Tensor> out = s.run(Map.of(), newV, read, v);
      assertEquals(Tensor.of(new float[] {7, 8}, 2), out.get(0));
      assertEquals(Tensor.of(new float[] {1, 2}, 2), out.get(1));
      assertEquals(Tensor.of(new float[] {1, 2}, 2), out.get(2));
      s.run(v.initializer());
      List<Tensor> ordered = s.run(Map.of(), after, read);
      assertEquals(Tensor.of(new float[] {7, 8}, 2), ordered.get(0));
      assertEquals(Tensor.of(new float[] {1, 2}, 2), ordered.get(1));
    }
  }

  @Test
  void initializeAndReadInOneRunWhenOrdered() {
    Variable v = tf.variable("v", tf.constant(3));
    Output r = tf.withControlDependencies(List.of(v.initializer())).identity(v);
    try (Session s = new Session(g)) {
      assertEquals(Tensor.scalar(3), s.run(Map.of(), r).get(0));
    }
  }

  @Test
  void feedingANonPlaceholderOverridesIt() {
    Output c = tf.constant(new float[] {1, 2});
    Output y = tf.identity(c);
    Variable v = tf.variable("v", tf.constant(new float[] {0, 0}));
    Output r = tf.identity(v);
    try (Session s = new Session(g)) {
      assertEquals(Tensor.of(new float[] {1, 2}, 2), s.run(Map.of(), y).get(0));
      Tensor fed = Tensor.of(new float[] {5, 6}, 2);
      assertEquals(fed, s.run(Map.of(c, fed), y).get(0));
      // feeding a variable read needs no initialization
      assertEquals(fed, s.run(Map.of(v, fed), r).get(0));
    }
  }

  @Test
  void variableValueAndAssignVariables() {
    Variable a = tf.variable("a", tf.constant(new float[] {1, 2}));
    Variable b = tf.variable("b", tf.constant(Tensor.of(new double[] {1, 2, 3, 4}, 2, 2)));
    Output sum = tf.identity(b);
    try (Session s = new Session(g)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.variableValue(a));
      assertEquals("Variable 'a' is uninitialized: run its initializer first", e.getMessage());
      Tensor bad = Tensor.of(new double[] {1, 2}, 2);
      IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
          () -> s.assignVariables(Map.of(a, Tensor.of(new float[] {3, 4}, 2), b, bad)));
      assertEquals("assignVariables: variable 'b' is f64[2,2], got a tensor of f64[2]", e2.getMessage());
      // nothing was applied
      assertThrows(IllegalStateException.class, () -> s.variableValue(a));
      s.assignVariables(Map.of(a, Tensor.of(new float[] {3, 4}, 2), b, Tensor.of(new double[] {5, 6, 7, 8}, 2, 2)));
      assertEquals(Tensor.of(new float[] {3, 4}, 2), s.variableValue(a));
      assertEquals(Tensor.of(new double[] {5, 6, 7, 8}, 2, 2), s.run(Map.of(), sum).get(0));
      Graph other = new Graph();
      Variable foreign = Ops.create(other).variable("a", Ops.create(other).constant(new float[] {0, 0}));
      IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class,
          () -> s.assignVariables(Map.of(foreign, Tensor.of(new float[] {1, 1}, 2))));
      assertEquals("assignVariables: variable 'a' belongs to another graph than this Session's", e3.getMessage());
      IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class,
          () -> s.assignVariables(Map.of(a, Tensor.of(new int[] {1, 1}, 2))));
      assertEquals("assignVariables: variable 'a' is f32[2], got a tensor of i32[2]", e4.getMessage());
    }
  }

  @Test
  void randomOpsAreSeededAndAdvanceAcrossRuns() {
    Output n = tf.randomNormal(Shape.of(3), 7);
    Output u = tf.randomUniform(Shape.of(2), DType.FLOAT64, 9);
    float[] first;
    try (Session s = new Session(g)) {
      first = s.run(Map.of(), n).get(0).toFloatArray();
      float[] second = s.run(Map.of(), n).get(0).toFloatArray();
      for (int i = 0; i < 3; i++) {
        assertEquals((float) normal(7, i), first[i]);
        assertEquals((float) normal(7, 3 + i), second[i]);
      }
      double[] uv = s.run(Map.of(), u).get(0).toDoubleArray();
      assertEquals(uniform(9, 0), uv[0]);
      assertEquals(uniform(9, 1), uv[1]);
    }
    try (Session s = new Session(g)) {
      assertArrayEquals(first, s.run(Map.of(), n).get(0).toFloatArray());
    }
  }

  /** The anchors' generator, written out independently of the runtime's. */
  private static double uniform(long seed, long i) {
    long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 11) * 0x1.0p-53;
  }

  private static double normal(long seed, long i) {
    double u1 = 1.0 - uniform(seed, 2 * i);
    double u2 = uniform(seed, 2 * i + 1);
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  @Test
  void plansAreCachedPerSignature() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1));
    Output y = tf.identity(x);
    try (Session s = new Session(g)) {
      for (int i = 0; i < 5; i++) {
        s.run(Map.of(x, Tensor.of(new float[] {1, 2}, 2)), y);
      }
      assertEquals(1, s.planCount());
      s.run(Map.of(x, Tensor.of(new float[] {1, 2, 3}, 3)), y);
      assertEquals(2, s.planCount());
    }
    try (Session s = new Session(g, SessionOptions.builder().optimize(false).maxCachedPlans(3).build())) {
      for (int n = 1; n <= 10; n++) {
        float[] v = new float[n];
        v[n - 1] = n;
        assertEquals(Tensor.of(v, n), s.run(Map.of(x, Tensor.of(v, n)), y).get(0));
        assertTrue(s.planCount() <= 3);
      }
    }
  }

  @Test
  void groupAndNoOpTargets() {
    Variable a = tf.variable("a", tf.constant(1));
    Variable b = tf.variable("b", tf.constant(2L));
    Operation init = tf.globalVariablesInitializer();
    try (Session s = new Session(g)) {
      s.run(init);
      assertEquals(Tensor.scalar(1), s.variableValue(a));
      assertEquals(Tensor.scalar(2L), s.variableValue(b));
    }
  }

  @Test
  void emptyTensorsFlowThrough() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
    Output y = tf.neg(tf.identity(x));
    Output total = tf.reduceSum(y);
    try (Session s = new Session(g)) {
      List<Tensor> out = s.run(Map.of(x, Tensor.zeros(DType.FLOAT32, Shape.of(0, 3))), y, total);
      assertEquals(Shape.of(0, 3), out.get(0).shape());
      assertEquals(0, out.get(0).size());
      assertEquals(Tensor.scalar(0f), out.get(1));
    }
  }
}
