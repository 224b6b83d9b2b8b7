package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** If and While nodes built by Ops.cond and Ops.whileLoop: bodies, captures, inferred types, errors, text. */
class ControlFlowGraphTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, -1));
  private final Output p = tf.placeholder("p", DType.BOOL, Shape.scalar());

  @Test
  void condCapturesOuterValuesAndJoinsTheBranchShapes() {
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 3));
    List<Output> r = tf.cond(p, () -> List.of(tf.exp(x), x), () -> List.of(tf.neg(y), tf.constant(1f)));
    Operation cond = r.get(0).op();
    assertEquals("If", cond.type());
    assertSame(g, cond.graph());
    // pred, then the captured values in first-capture order
    assertEquals(List.of(p, x, y), cond.inputs());
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(-1, -1)), r.get(0).type());
    assertEquals(new TensorType(DType.FLOAT32, Shape.unknown()), r.get(1).type());
    Subgraph then = cond.subgraphs().get(0);
    assertEquals(2, then.parameters().size());
    assertEquals("Parameter", then.results().get(1).op().type(), "an outer value returned is captured");
    assertEquals(Shape.of(2, 3), ControlFlowOp.mostSpecificCompatible(Shape.of(2, 3), Shape.of(2, 3)));
    assertEquals(Shape.of(2, -1), ControlFlowOp.mostSpecificCompatible(Shape.of(2, 3), Shape.of(2, 4)));
    assertEquals(4, g.size(), "placeholders x, p, y and the If node (and no stray node)");
  }

  @Test
  void nestedBodiesCaptureThroughEveryLevel() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.cond(p, () -> List.of(tf.add(v.get(1), tf.reduceSum(x))), () -> List.of(v.get(1))).get(0)),
        List.of(tf.constant(0), tf.constant(0f)));
    Operation loop = r.get(0).op();
    assertEquals(List.of("Const", "Const", "Placeholder", "Placeholder", "Placeholder"),
        loop.inputs().stream().map(o -> o.op().type()).toList());
    assertEquals(List.of("n", "p", "x"), loop.inputs().subList(2, 5).stream().map(Output::name).toList());
    Subgraph body = loop.subgraphs().get(1);
    Operation inner = body.graph().operations().stream().filter(o -> o.type().equals("If")).findFirst().orElseThrow();
    // the If in the body reads p and x through the body's capture Parameters
    assertEquals(body.parameters().get(3), inner.input(0));
    assertTrue(inner.inputs().stream().allMatch(o -> o.graph() == body.graph()));
  }

  @Test
  void textRoundTripIsExact() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), n), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.cond(p, () -> List.of(tf.mul(v.get(1), x)), () -> List.of(v.get(1))).get(0)),
        List.of(tf.constant(0), tf.zerosLike(x)), WhileOptions.defaults().maximumIterations(10));
    tf.identity(r.get(1));
    String text = g.toText();
    assertTrue(text.contains("While(") && text.contains("If(") && text.contains("maximum_iterations = 10"), text);
    Graph back = Graph.parse(text);
    assertEquals(text, back.toText());
  }

  @Test
  void branchesOfDifferentArityOrDtypeAreErrorsNamingTheNode() {
    IllegalArgumentException arity = assertThrows(IllegalArgumentException.class,
        () -> tf.cond(p, () -> List.of(x, x), () -> List.of(x)));
    assertEquals("If 'cond': the then branch returns 2 values but the else branch returns 1 (then: "
        + "['capture' f32[2,?], 'capture' f32[2,?]]; else: ['capture' f32[2,?]])", arity.getMessage());
    IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
        () -> tf.cond(p, () -> List.of(tf.exp(x)), () -> List.of(tf.constant(1))));
    assertEquals("If 'cond': result 0 has dtype f32 in the then branch ('Exp') but i32 in the else branch ('Const')",
        dtype.getMessage());
    assertEquals(2, g.size(), "a failed cond leaves no node");
  }

  @Test
  void thePredicateMustBeAScalarBool() {
    IllegalArgumentException notBool = assertThrows(IllegalArgumentException.class,
        () -> tf.cond(tf.constant(1f), () -> List.of(x), () -> List.of(x)));
    assertEquals("If 'cond': the predicate 'Const' must be a scalar bool, got f32[]", notBool.getMessage());
    Output bools = tf.placeholder("b", DType.BOOL, Shape.of(2));
    IllegalArgumentException notScalar = assertThrows(IllegalArgumentException.class,
        () -> tf.cond(bools, () -> List.of(x), () -> List.of(x)));
    assertEquals("If 'cond': the predicate 'b' must be a scalar bool, got bool[2]", notScalar.getMessage());
    IllegalArgumentException loopCond = assertThrows(IllegalArgumentException.class,
        () -> tf.whileLoop(v -> tf.reduceSum(v.get(0)), v -> v, List.of(x)));
    assertEquals("While 'while': the condition must return a scalar bool, got 'Sum' f32[]", loopCond.getMessage());
  }

  @Test
  void aBodyReturningTheWrongNumberOfValuesIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.whileLoop(v -> p, v -> List.of(v.get(0)), List.of(x, tf.constant(0))));
    assertEquals("While 'while': the body returns 1 value for 2 loop variables (returned: ['arg' f32[2,?]]; "
        + "loop variables: ['x' f32[2,?], 'Const' i32[]])", e.getMessage());
  }

  @Test
  void aShapeThatChangesNeedsAnInvariant() {
    Output m = tf.placeholder("m", DType.FLOAT32, Shape.of(2, 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.whileLoop(v -> p, v -> List.of(tf.concat(List.of(v.get(0), v.get(0)), 0)), List.of(m)));
    assertEquals("While 'while': loop variable 0 ('m') has shape [2,3] but the body returns shape [4,3] ('Concat') "
        + "for it; declare a less specific shape invariant (WhileOptions.shapeInvariant) if its shape changes across "
        + "iterations", e.getMessage());
    List<Output> r = tf.whileLoop(v -> p, v -> List.of(tf.concat(List.of(v.get(0), v.get(0)), 0)), List.of(m),
        WhileOptions.defaults().shapeInvariant(0, Shape.of(-1, 3)));
    assertEquals(Shape.of(-1, 3), r.get(0).shape());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> tf.whileLoop(v -> p, v -> v,
        List.of(m), WhileOptions.defaults().shapeInvariant(0, Shape.of(-1, 4))));
    assertEquals("While 'while_1': loop variable 0 'm' has shape [2,3], which is not an instance of its shape "
        + "invariant [?,4]", bad.getMessage());
  }

  @Test
  void dotDrawsBodiesAsClusters() {
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    tf.whileLoop(v -> tf.less(v.get(0), n), v -> List.of(tf.add(v.get(0), tf.constant(1))), List.of(tf.constant(0)));
    String dot = g.toDot();
    assertTrue(dot.contains("subgraph \"cluster_while\"") && dot.contains("label=\"while: While\""), dot);
    assertTrue(dot.contains("subgraph \"cluster_while#0/\"") && dot.contains("subgraph \"cluster_while#1/\""), dot);
    assertTrue(dot.contains("\"while#1/Add\""), dot);
  }

  @Test
  void secondOrderThroughNestedLoopsRecomputesTheInnerLoop() {
    Output x = tf.placeholder("x2", DType.FLOAT32, Shape.of(2));
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Output y = tf.whileLoop(v -> tf.less(v.get(0), n), v -> {
      Output inner = tf.whileLoop(u -> tf.less(u.get(0), v.get(0)),
          u -> List.of(tf.add(u.get(0), tf.constant(1)), tf.mul(u.get(1), x)), List.of(tf.constant(0), v.get(1))).get(1);
      return List.of(tf.add(v.get(0), tf.constant(1)), inner);
    }, List.of(tf.constant(0), x)).get(1);
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);
    Output d2 = tf.gradients(tf.reduceSum(dx), x).get(0);
    assertEquals(x.type(), d2.type());
    // the inner loop's recorded stacks are not stacked again: a backward body recomputes the inner loop
    assertTrue(anyBody(g, op -> op.type().equals("While") && op.name().endsWith("_recomputed")), g.toText());
  }

  private static boolean anyBody(Graph graph, java.util.function.Predicate<Operation> test) {
    for (Operation op : graph.operations()) {
      if (test.test(op)) {
        return true;
      }
      for (Subgraph s : op.subgraphs()) {
        if (anyBody(s.graph(), test)) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void secondOrderThroughALoopDifferentiatesTheBackwardLoop() {
    Output x = tf.placeholder("x2", DType.FLOAT32, Shape.of(2));
    Output y = tf.whileLoop(v -> p, v -> List.of(tf.mul(v.get(0), v.get(0))), List.of(x)).get(0);
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);
    Output d2 = tf.gradients(tf.reduceSum(dx), x).get(0);
    assertEquals(x.type(), d2.type());
    // the backward loop's gradient pushes the gradient of each element it read from the forward stacks
    Operation backwardOfBackward = g.operations().stream()
        .filter(o -> o.type().equals("While") && o.name().endsWith("while_backward_backward")).findFirst().orElseThrow();
    assertTrue(backwardOfBackward.attrs().getLong(ControlFlowOp.NUM_STACKED) > 0, backwardOfBackward.toString());
  }

  @Test
  void variablesAreCreatedOutsideBodies() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.cond(p, () -> List.of(tf.variable("v", x)), () -> List.of(x)));
    assertEquals("Variable 'v': variables cannot be created inside a cond or whileLoop body; create it outside and"
        + " use it inside", e.getMessage());
    assertEquals(2, g.size());
  }

  @Test
  void aBodyAssignsACapturedVariableThroughAParameterNamingItAndTheTextRoundTrips() {
    Variable w = tf.variable("w", tf.constant(0f));
    Output n = tf.placeholder("n", DType.INT32, Shape.scalar());
    Operation loop = tf.whileLoop(v -> tf.less(v.get(0), n), v -> {
      Output a = tf.assignAdd(w, tf.constant(1f));
      return List.of(tf.withControlDependencies(List.of(a.op())).add(v.get(0), tf.constant(1)));
    }, List.of(tf.constant(0))).get(0).op();
    Subgraph body = loop.subgraphs().get(1);
    Output captured = body.parameters().get(2);
    assertEquals(w, loop.input(2));
    assertEquals("w", captured.op().attrs().getString(ControlFlowOp.VARIABLE));
    assertTrue(ControlFlowOp.isCapturedVariable(captured));
    assertEquals(List.of(2), ControlFlowOp.assignedInputs(loop));
    String text = g.toText();
    assertEquals(text, Graph.parse(text).toText());
  }

  @Test
  void anAssignInsideABodyNeedsAVariable() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.cond(p, () -> List.of(tf.assign(tf.identity(x), x)), () -> List.of(x)));
    assertTrue(e.getMessage().endsWith("input 0 must be a Variable, got Identity 'Identity'"), e.getMessage());
  }
}
