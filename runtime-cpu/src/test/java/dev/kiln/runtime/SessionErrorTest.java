package dev.kiln.runtime;

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

/** Every error a run can raise, with its exact message, and the Session still usable after it. */
class SessionErrorTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
  private final Output y = tf.withName("y").identity(x);
  private final Variable w = tf.variable("w", tf.constant(new float[] {1, 2, 3}));
  private final Output newW = tf.withName("new_w").assign(w, tf.constant(new float[] {4, 5, 6}));
  private final Output readW = tf.withName("read_w").identity(w);

  @Test
  void missingFeed() {
    try (Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(), y));
      assertEquals("Placeholder 'x': no value fed for f32[?,3] (the run needs it)", e.getMessage());
      assertEquals(Tensor.of(new float[] {1, 2, 3}, 1, 3), s.run(Map.of(x, Tensor.of(new float[] {1, 2, 3}, 1, 3)), y).get(0));
    }
  }

  @Test
  void wrongDType() {
    try (Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.run(Map.of(x, Tensor.of(new int[] {1, 2, 3}, 1, 3)), y));
      assertEquals("Placeholder 'x': fed i32[1,3], expected f32[?,3]", e.getMessage());
    }
  }

  @Test
  void wrongShape() {
    try (Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.runner().feed(x, Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)).fetch(y).run());
      assertEquals("Placeholder 'x': fed f32[2,2], expected f32[?,3]", e.getMessage());
      IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
          () -> s.runner().feed(x, Tensor.of(new float[] {1, 2, 3}, 3)).fetch(y).run());
      assertEquals("Placeholder 'x': fed f32[3], expected f32[?,3]", rank.getMessage());
    }
  }

  @Test
  void uninitializedVariable() {
    try (Session s = new Session(g)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.run(Map.of(), readW));
      assertEquals("Variable 'w' is uninitialized: run its initializer first", e.getMessage());
      // an assign alone initializes it; then reads work
      assertEquals(Tensor.of(new float[] {4, 5, 6}, 3), s.run(Map.of(), newW).get(0));
      assertEquals(Tensor.of(new float[] {4, 5, 6}, 3), s.run(Map.of(), readW).get(0));
    }
  }

  @Test
  void uninitializedReadFailsBeforeAnyAssignRuns() {
    Variable v = tf.variable("v", tf.constant(new float[] {1}));
    Output setW = tf.assign(w, tf.constant(new float[] {9, 9, 9}));
    Output readV = tf.identity(v);
    try (Session s = new Session(g)) {
      s.run(w.initializer());
      assertThrows(IllegalStateException.class, () -> s.run(Map.of(), setW, readV));
      assertEquals(Tensor.of(new float[] {1, 2, 3}, 3), s.variableValue(w));
    }
  }

  @Test
  void closedSession() {
    Session s = new Session(g);
    s.run(w.initializer());
    s.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.run(Map.of(), readW));
    assertEquals("Session is closed", e.getMessage());
    assertEquals("Session is closed", assertThrows(IllegalStateException.class, () -> s.run(w.initializer())).getMessage());
    assertEquals("Session is closed", assertThrows(IllegalStateException.class, () -> s.variableValue(w)).getMessage());
    s.close(); // closing twice is harmless
  }

  @Test
  void fetchOfANameThatDoesNotExist() {
    try (Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.runner().fetch("nope"));
      assertEquals("no node named 'nope' in the graph", e.getMessage());
      IllegalArgumentException f = assertThrows(IllegalArgumentException.class,
          () -> s.runner().feed("missing:1", Tensor.scalar(1f)));
      assertEquals("no node named 'missing' in the graph", f.getMessage());
      IllegalArgumentException i = assertThrows(IllegalArgumentException.class, () -> s.runner().fetch("y:1"));
      assertEquals("no output 'y:1': Identity 'y' has 1 output", i.getMessage());
      Tensor xv = Tensor.of(new float[] {1, 2, 3}, 1, 3);
      assertEquals(xv, s.runner().feed("x", xv).fetch("y").fetch("x:0").run().get(1));
    }
  }

  @Test
  void fetchFromAnotherGraph() {
    Graph other = new Graph();
    Output c = Ops.create(other).constant(1f);
    try (Session s = new Session(g)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(), c));
      assertEquals("fetch Const 'Const' belongs to another graph than this Session's", e.getMessage());
    }
  }

  @Test
  void feedingTwiceInARunner() {
    try (Session s = new Session(g)) {
      Tensor xv = Tensor.of(new float[] {1, 2, 3}, 1, 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.runner().feed(x, xv).feed("x", xv));
      assertEquals("'x' is already fed in this run", e.getMessage());
    }
  }

  @Test
  void viewsDoNotCopySoAReadOrderedAfterAnAssignSeesTheNewValue() {
    // Identity is a view: the read happens where a value is consumed (here: fetched), and that
    // consumer is ordered after set_a.
    Variable a = tf.variable("a", tf.constant(new float[] {1}));
    Output readA = tf.withName("read_a").identity(a);
    Output setA = tf.withName("set_a").withControlDependencies(List.of(readA.op())).assign(a, tf.constant(new float[] {2}));
    Output readAfter = tf.withName("read_after").withControlDependencies(List.of(setA.op())).identity(readA);
    try (Session s = new Session(g)) {
      s.run(a.initializer());
      List<Tensor> out = s.run(Map.of(), readAfter, readA);
      assertEquals(Tensor.of(new float[] {2}, 1), out.get(0));
      assertEquals(Tensor.of(new float[] {1}, 1), out.get(1));
    }
  }

  @Test
  void readAssignCycleIsReported() {
    // r_a2 reads a and so must precede set_a, but it waits for set_b; r_b2 reads b and so must
    // precede set_b, but it waits for set_a. r_a1 and r_b1 read a and b after their assigns, so
    // neither variable can be read through a snapshot instead.
    Variable a = tf.variable("a", tf.constant(new float[] {1}));
    Variable b = tf.variable("b", tf.constant(new float[] {2}));
    Output setA = tf.withName("set_a").assign(a, tf.constant(new float[] {3}));
    Output setB = tf.withName("set_b").assign(b, tf.constant(new float[] {4}));
    Output ra2 = tf.withName("r_a2").withControlDependencies(List.of(setB.op()))
        .assign(tf.variable("c", tf.constant(new float[] {0})), a);
    Output rb2 = tf.withName("r_b2").withControlDependencies(List.of(setA.op()))
        .assign(tf.variable("d", tf.constant(new float[] {0})), b);
    Output ra1 = tf.withName("r_a1").withControlDependencies(List.of(setA.op()))
        .assign(tf.variable("e", tf.constant(new float[] {0})), a);
    Output rb1 = tf.withName("r_b1").withControlDependencies(List.of(setB.op()))
        .assign(tf.variable("f", tf.constant(new float[] {0})), b);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.run(ra2.op(), rb2.op(), ra1.op(), rb1.op()));
      assertEquals("cannot order this run: the reads and assigns of variables form a cycle (each read must "
          + "come before the assigns it is not ordered after) among Assign 'set_a', Assign 'set_b', "
          + "Assign 'r_a2', Assign 'r_b2'", e.getMessage());
      assertEquals(Tensor.of(new float[] {1}, 1), s.variableValue(a));
      assertEquals(Tensor.of(new float[] {3}, 1), s.run(Map.of(), setA).get(0));
    }
  }

  @Test
  void twoAssignsReadingEachOthersVariableSwapThem() {
    Variable a = tf.variable("a", tf.constant(new float[] {1, 2}));
    Variable b = tf.variable("b", tf.constant(new float[] {3, 4}));
    Output aFromB = tf.assign(a, b);
    Output bFromA = tf.assign(b, a);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> out = s.run(Map.of(), aFromB, bFromA, a);
      assertEquals(Tensor.of(new float[] {3, 4}, 2), out.get(0));
      assertEquals(Tensor.of(new float[] {1, 2}, 2), out.get(1));
      assertEquals(Tensor.of(new float[] {1, 2}, 2), out.get(2)); // the read of a: its pre-run value
      s.run(aFromB.op(), bFromA.op());
      assertEquals(Tensor.of(new float[] {1, 2}, 2), s.variableValue(a));
      assertEquals(Tensor.of(new float[] {3, 4}, 2), s.variableValue(b));
    }
  }

  @Test
  void aFailedRunChangesNoVariable() {
    Output p = tf.placeholder("p", DType.FLOAT32, Shape.of(3));
    Output setFromP = tf.assign(w, p);
    Output bumpW = tf.assignAdd(w, tf.constant(new float[] {1, 1, 1}));
    try (Session s = new Session(g)) {
      s.run(w.initializer());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.runner().feed(p, Tensor.of(new float[] {7, 7}, 2)).addTarget(bumpW.op()).fetch(setFromP).run());
      assertEquals("Placeholder 'p': fed f32[2], expected f32[3]", e.getMessage());
      assertEquals(Tensor.of(new float[] {1, 2, 3}, 3), s.variableValue(w));
      List<Tensor> ok = s.runner().feed(p, Tensor.of(new float[] {7, 7, 7}, 3)).addTarget(bumpW.op()).fetch(setFromP).run();
      // set_from_p was created before bump_w, so it applies first
      assertEquals(Tensor.of(new float[] {7, 7, 7}, 3), ok.get(0));
      assertEquals(Tensor.of(new float[] {8, 8, 8}, 3), s.variableValue(w));
    }
  }

  @Test
  void aKernelFailingAfterAnAssignRestoresTheVariable() {
    Variable v = tf.variable("v", tf.constant(Tensor.of(new int[] {1, 2}, 2)));
    Output setV = tf.withName("set_v").assign(v, tf.constant(Tensor.of(new int[] {5, 6}, 2)));
    Output divisor = tf.placeholder("divisor", DType.INT32, Shape.of(2));
    Output q = tf.withName("q").withControlDependencies(List.of(setV.op()))
        .div(tf.constant(Tensor.of(new int[] {10, 10}, 2)), divisor);
    try (Session s = new Session(g)) {
      s.run(v.initializer());
      ArithmeticException e = assertThrows(ArithmeticException.class,
          () -> s.run(Map.of(divisor, Tensor.of(new int[] {0, 1}, 2)), q));
      assertEquals("Div 'q': integer division by zero", e.getMessage());
      assertEquals(Tensor.of(new int[] {1, 2}, 2), s.variableValue(v));
      assertEquals(Tensor.of(new int[] {5, 2}, 2), s.run(Map.of(divisor, Tensor.of(new int[] {2, 5}, 2)), q).get(0));
      assertEquals(Tensor.of(new int[] {5, 6}, 2), s.variableValue(v));
    }
  }
}
