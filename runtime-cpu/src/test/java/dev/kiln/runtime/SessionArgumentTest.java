package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad arguments to a run (nulls, nodes a failed {@code Graph.atomically} rolled back, shapes whose
 * element count no tensor can hold) fail with Kiln's own message naming what is wrong, and leave the
 * Session usable; with the optimizer on and off.
 */
class SessionArgumentTest {
  private static final String ROLLED_BACK =
      " was rolled back: the Graph.atomically call that created Neg 'ghost' failed, so it is not in the graph";

  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
  private final Output y = tf.withName("y").neg(x);
  private final Tensor xv = Tensor.of(new float[] {1, 2, 3}, 3);
  private final Tensor yv = Tensor.of(new float[] {-1, -2, -3}, 3);

  private static Session open(Graph g, boolean optimize) {
    return new Session(g, SessionOptions.builder().optimize(optimize).build());
  }

  private Output ghost() {
    Output[] made = new Output[1];
    assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
      made[0] = tf.withName("ghost").neg(x);
      throw new IllegalStateException("boom");
    }));
    return made[0];
  }

  private static void assertNpe(String message, org.junit.jupiter.api.function.Executable body) {
    NullPointerException e = assertThrows(NullPointerException.class, body);
    assertEquals(message, e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void rolledBackNodesCannotBeFetchedFedOrRun(boolean optimize) {
    Output ghost = ghost();
    try (Session s = open(g, optimize)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(x, xv), ghost));
      assertEquals("fetch 'ghost'" + ROLLED_BACK, e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> s.runner().feed(x, xv).fetch(ghost).run());
      assertEquals("fetch 'ghost'" + ROLLED_BACK, e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(ghost, xv), y));
      assertEquals("feed 'ghost'" + ROLLED_BACK, e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> s.run(ghost.op()));
      assertEquals("target 'ghost'" + ROLLED_BACK, e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> s.runner().addTarget(ghost.op()).run());
      assertEquals("target 'ghost'" + ROLLED_BACK, e.getMessage());
      assertEquals(yv, s.run(Map.of(x, xv), y).get(0));
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aRolledBackNodeCompiledIntoAPlanBeforeItsRollBackIsStillRejected(boolean optimize) {
    try (Session s = open(g, optimize)) {
      Output[] made = new Output[1];
      assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
        made[0] = tf.withName("ghost").neg(x);
        assertEquals(yv, s.run(Map.of(x, xv), made[0]).get(0));
        throw new IllegalStateException("boom");
      }));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(x, xv), made[0]));
      assertEquals("fetch 'ghost'" + ROLLED_BACK, e.getMessage());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void rolledBackVariablesCannotBeReadOrAssigned(boolean optimize) {
    Variable[] made = new Variable[1];
    assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
      made[0] = tf.variable("v", tf.constant(1f));
      throw new IllegalStateException("boom");
    }));
    String rolledBack = " was rolled back: the Graph.atomically call that created Variable 'v' failed, so it is not in the graph";
    try (Session s = open(g, optimize)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.variableValue(made[0]));
      assertEquals("variableValue: variable 'v'" + rolledBack, e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> s.assignVariables(Map.of(made[0], Tensor.scalar(2f))));
      assertEquals("assignVariables: variable 'v'" + rolledBack, e.getMessage());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void nullArgumentsAreNamed(boolean optimize) {
    try (Session s = open(g, optimize)) {
      assertNpe("run: feeds is null", () -> s.run(null, y));
      assertNpe("run: fetches is null", () -> s.run(Map.of(x, xv), (Output[]) null));
      assertNpe("run: fetch 1 is null", () -> s.run(Map.of(x, xv), y, null));
      assertNpe("run: targets is null", () -> s.run((Operation[]) null));
      assertNpe("run: target 0 is null", () -> s.run((Operation) null));
      Map<Output, Tensor> nullKey = new HashMap<>();
      nullKey.put(null, xv);
      assertNpe("run: a fed output is null", () -> s.run(nullKey, y));
      Map<Output, Tensor> nullValue = new HashMap<>();
      nullValue.put(x, null);
      assertNpe("run: value fed for 'x' is null", () -> s.run(nullValue, y));
      assertNpe("feed: output is null", () -> s.runner().feed((Output) null, xv));
      assertNpe("feed: name is null", () -> s.runner().feed((String) null, xv));
      assertNpe("feed: value fed for 'x' is null", () -> s.runner().feed(x, null));
      assertNpe("feed: value fed for 'x' is null", () -> s.runner().feed("x", null));
      assertNpe("fetch: output is null", () -> s.runner().fetch((Output) null));
      assertNpe("fetch: name is null", () -> s.runner().fetch((String) null));
      assertNpe("addTarget: operation is null", () -> s.runner().addTarget((Operation) null));
      assertNpe("addTarget: name is null", () -> s.runner().addTarget((String) null));
      assertNpe("variableValue: variable is null", () -> s.variableValue(null));
      assertNpe("assignVariables: values is null", () -> s.assignVariables(null));
      assertEquals(List.of(yv), s.run(Map.of(x, xv), y));
    }
    assertNpe("Session: graph is null", () -> new Session(null));
    assertNpe("Session: options is null", () -> new Session(g, null));
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void resultIndexesAreChecked(boolean optimize) {
    try (Session s = open(g, optimize); Result r = s.runner().feed(x, xv).fetch(y).runNoCopy()) {
      IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> r.get(1));
      assertEquals("Result.get: index 1 is out of range for 1 fetched value", e.getMessage());
      e = assertThrows(IndexOutOfBoundsException.class, () -> r.get(-1));
      assertEquals("Result.get: index -1 is out of range for 1 fetched value", e.getMessage());
      assertNpe("Result.get: output is null", () -> r.get((Output) null));
      assertEquals(yv, r.get(0));
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aRunWhoseFedShapesMakeAValueTooLargeFailsNamingTheNode(boolean optimize) {
    Output col = tf.placeholder("col", DType.FLOAT32, Shape.of(-1, 1));
    Output row = tf.placeholder("row", DType.FLOAT32, Shape.of(1, -1));
    Output outer = tf.withName("outer").add(col, row);
    Output product = tf.withName("product").matmul(col, row);
    Tensor c = Tensor.zeros(DType.FLOAT32, Shape.of(65536, 1));
    Tensor r = Tensor.zeros(DType.FLOAT32, Shape.of(1, 65536));
    String tooMany = "shape [65536,65536] has 4294967296 elements, more than a tensor can hold (2147483639)";
    try (Session s = open(g, optimize)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.run(Map.of(col, c, row, r), outer));
      assertEquals("Add 'outer': " + tooMany, e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> s.run(Map.of(col, c, row, r), product));
      assertEquals("MatMul 'product': " + tooMany, e.getMessage());
      Tensor small = Tensor.of(new float[] {1, 2}, 2, 1);
      Tensor one = Tensor.of(new float[] {10}, 1, 1);
      assertEquals(Tensor.of(new float[] {11, 12}, 2, 1), s.run(Map.of(col, small, row, one), outer).get(0));
    }
  }

  @Test
  void sessionOptionsNameTheNullArgument() {
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> SessionOptions.builder().disablePass(null));
    assertEquals("disablePass: pass is null", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> SessionOptions.builder().device(null));
    assertEquals("device: name is null", e.getMessage());
  }
}
