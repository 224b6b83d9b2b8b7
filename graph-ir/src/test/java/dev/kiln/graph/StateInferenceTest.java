package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Sources (placeholders, constants, random and fill) and state (variables, assignments, NoOp). */
@ExtendWith(InferenceSupport.class)
class StateInferenceTest {
  @Test
  @Covers("Placeholder")
  void placeholderHasItsDeclaredType() {
    Ops tf = newOps();
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 1000));
    assertType("f32[?,1000]", x);
    assertEquals("x", x.name());
    assertEquals(Shape.of(-1, 1000), x.shape());
    assertEquals(DType.FLOAT32, x.dtype());
    assertType("i64[*]", tf.placeholder("n", DType.INT64, Shape.unknown()));
    assertType("bool[]", tf.placeholder("flag", DType.BOOL, Shape.scalar()));
    assertEquals(0, x.op().numInputs());
    assertFails("Placeholder 'p': missing attribute 'shape' (a shape such as [2,?] or [*])", tf,
        () -> tf.withName("p").opBuilder("Placeholder").setAttr("dtype", DType.FLOAT32).build());
    assertFails("Placeholder 'p': missing attribute 'dtype' (a dtype such as f32 or i64)", tf,
        () -> tf.withName("p").opBuilder("Placeholder").setAttr("shape", Shape.scalar()).build());
    assertFails("Placeholder 'p': attribute 'dtype' must be a dtype such as f32 or i64, got a string: \"f32\"", tf,
        () -> tf.withName("p").opBuilder("Placeholder").setAttr("dtype", "f32").setAttr("shape", Shape.scalar()).build());
    assertFails("Placeholder 'p': attribute 'shape' must be a shape such as [2,?] or [*], got an int list: array<2>", tf,
        () -> tf.withName("p").opBuilder("Placeholder").setAttr("dtype", DType.FLOAT32).setAttr("shape", new int[] {2})
            .build());
    assertFails("Placeholder 'p': expects 0 inputs, got 1", tf,
        () -> tf.withName("p").opBuilder("Placeholder").addInput(x).setAttr("dtype", DType.FLOAT32)
            .setAttr("shape", Shape.scalar()).build());
  }

  @Test
  @Covers("Parameter")
  void parameterHasItsDeclaredTypeAndServesSubgraphs() {
    Ops body = newOps();
    Output a = body.withName("a").opBuilder("Parameter").setAttr("dtype", DType.FLOAT64)
        .setAttr("shape", Shape.of(-1, 2)).build().output(0);
    assertType("f64[?,2]", a);
    Output r = body.square(a);
    Subgraph sub = new Subgraph(body.graph(), List.of(a), List.of(r));
    assertEquals(List.of(a), sub.parameters());

    Ops tf = newOps();
    Output x = in(tf, "f64[3,2]");
    Operation call = tf.opBuilder("Identity").addInput(x).addSubgraph(sub).build();
    assertEquals(List.of(sub), call.subgraphs());
    assertFails("Parameter 'b': missing attribute 'dtype' (a dtype such as f32 or i64)", body,
        () -> body.withName("b").opBuilder("Parameter").setAttr("shape", Shape.scalar()).build());
  }

  @Test
  @Covers("Const")
  void constantHasItsTensorsType() {
    Ops tf = newOps();
    assertType("i32[2,3]", tf.constant(Tensor.of(new int[] {1, 2, 3, 4, 5, 6}, 2, 3)));
    assertType("f32[]", tf.constant(1f));
    assertType("f64[]", tf.constant(2.0));
    assertType("i32[]", tf.constant(3));
    assertType("i64[]", tf.constant(4L));
    assertType("bool[]", tf.constant(true));
    assertType("f32[3]", tf.constant(new float[] {1, 2, 3}));
    Output c = tf.constant(2.75, DType.INT64);
    assertType("i64[]", c);
    assertEquals(2L, c.op().attrs().getTensor("value").longValue());
    assertEquals(Tensor.scalar(true), tf.constant(0.5, DType.BOOL).op().attrs().getTensor("value"));
    assertEquals(Tensor.scalar(0.5f), tf.constant(0.5, DType.FLOAT32).op().attrs().getTensor("value"));
    assertEquals("Const_7", c.name());
    assertFails("Const 'Const_10': missing attribute 'value' (a tensor such as dense<f32[2]>[1.0, 2.0])", tf, () -> tf.opBuilder("Const").build());
    assertFails("Const 'Const_10': attribute 'value' must be a tensor such as dense<f32[2]>[1.0, 2.0], got a float: 1.0", tf,
        () -> tf.opBuilder("Const").setAttr("value", 1.0).build());
  }

  @Test
  @Covers({"RandomNormal", "RandomUniform"})
  void randomOpsNeedAFloatDTypeAFixedShapeAndASeed() {
    Ops tf = newOps();
    Output n = tf.randomNormal(Shape.of(3, 4), 7L);
    assertType("f32[3,4]", n);
    assertEquals(7L, n.op().attrs().getLong("seed"));
    assertTrue(n.op().isStateful());
    assertType("f64[2]", tf.randomNormal(Shape.of(2), DType.FLOAT64, 1L));
    Output u = tf.randomUniform(Shape.of(5), 9L);
    assertType("f32[5]", u);
    assertTrue(u.op().isStateful());
    assertType("f64[]", tf.randomUniform(Shape.scalar(), DType.FLOAT64, 1L));
    for (String type : List.of("RandomNormal", "RandomUniform")) {
      String node = type + "_2";
      assertFails(type + " '" + node + "': attribute 'dtype' must be one of f32, f64, got i32", tf,
          () -> tf.opBuilder(type).setAttr("shape", Shape.of(2)).setAttr("dtype", DType.INT32).setAttr("seed", 1L)
              .build());
      assertFails(type + " '" + node + "': attribute 'shape' must be a fully defined shape, got [?,4]", tf,
          () -> tf.opBuilder(type).setAttr("shape", Shape.of(-1, 4)).setAttr("dtype", DType.FLOAT32)
              .setAttr("seed", 1L).build());
      assertFails(type + " '" + node + "': attribute 'shape' must be a fully defined shape, got [*]", tf,
          () -> tf.opBuilder(type).setAttr("shape", Shape.unknown()).setAttr("dtype", DType.FLOAT32)
              .setAttr("seed", 1L).build());
      assertFails(type + " '" + node + "': missing attribute 'seed' (an int)", tf,
          () -> tf.opBuilder(type).setAttr("shape", Shape.of(2)).setAttr("dtype", DType.FLOAT32).build());
      assertFails(type + " '" + node + "': missing attribute 'shape' (a shape such as [2,?] or [*])", tf,
          () -> tf.opBuilder(type).setAttr("dtype", DType.FLOAT32).setAttr("seed", 1L).build());
    }
    assertFails("RandomNormal 'RandomNormal_2': attribute 'shape' must be a fully defined shape, got [?]", tf,
        () -> tf.randomNormal(Shape.of(-1), 1L));
  }

  @Test
  @Covers("Fill")
  void fillTakesTheValuesDTypeAndTheAttributeShape() {
    Ops tf = newOps();
    assertType("f64[2,3]", tf.fill(Shape.of(2, 3), tf.constant(1.5)));
    assertType("i32[4]", tf.fill(Shape.of(4), in(tf, "i32[*]")));
    assertType("bool[]", tf.fill(Shape.scalar(), tf.constant(true)));
    Output vec = in(tf, "f32[2]");
    Output one = tf.constant(1f);
    assertFails("Fill 'Fill_3': input 0 must be a scalar, got [2]", tf, () -> tf.fill(Shape.of(2), vec));
    assertFails("Fill 'Fill_3': attribute 'shape' must be a fully defined shape, got [2,?]", tf,
        () -> tf.fill(Shape.of(2, -1), one));
  }

  @Test
  @Covers({"Variable", "Assign"})
  void variableTakesItsInitialValuesTypeAndGetsAnInitializer() {
    Ops tf = newOps();
    Output init = tf.randomNormal(Shape.of(2, 3), 1L);
    Variable w = tf.variable("w", init);
    assertType("f32[2,3]", w);
    assertEquals("w", w.name());
    assertSame(init, w.initialValue());
    assertTrue(w.op().isStateful());
    assertFalse(w.op().def().readsInput(0));
    Operation assign = w.initializer();
    assertEquals("w/Assign", assign.name());
    assertEquals("Assign", assign.type());
    assertEquals(List.of(w, init), assign.inputs());
    assertType("f32[2,3]", assign.output(0));
    assertEquals(List.of(w), tf.graph().variables());

    Variable scoped = tf.withSubScope("layer").variable("b", tf.constant(new float[] {0, 0, 0}));
    assertEquals("layer/b", scoped.name());
    assertEquals("layer/b/Assign", scoped.initializer().name());
    assertEquals(List.of(w, scoped), tf.graph().variables());

    Output partial = in(tf, "f32[?,3]");
    assertFails("Variable 'v': initial value must have a fully defined shape, got [?,3]", tf,
        () -> tf.variable("v", partial));
    Output unknown = in(tf, "f32[*]");
    assertFails("Variable 'v': initial value must have a fully defined shape, got [*]", tf,
        () -> tf.variable("v", unknown));
    assertFails("Variable 'w': name already used by Variable 'w'", tf, () -> tf.variable("w", init));
    assertFails("Variable 'w/Assign': name already used by Assign 'w/Assign'", tf, () -> tf.variable("w/Assign", init));
    assertEquals(List.of(w, scoped), tf.graph().variables());
  }

  @Test
  @Covers({"Assign", "AssignAdd", "AssignSub"})
  void assignmentsCheckTheValueAgainstTheVariable() {
    Ops tf = newOps();
    Variable w = tf.variable("w", tf.constant(Tensor.zeros(DType.FLOAT32, Shape.of(2, 3))));
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    Output partial = in(tf, "f32[?,3]");
    Output wrongShape = in(tf, "f32[3,2]");
    Output wrongDType = in(tf, "f64[2,3]");
    Output row = in(tf, "f32[3]");
    List<String> types = List.of("Assign", "AssignAdd", "AssignSub");
    for (String type : types) {
      java.util.function.BiFunction<Output, Output, Output> op = switch (type) {
        case "Assign" -> tf::assign;
        case "AssignAdd" -> tf::assignAdd;
        default -> tf::assignSub;
      };
      Output a = op.apply(w, x);
      assertType("f32[2,3]", a);
      assertType("f32[2,3]", op.apply(w, partial));
      assertType("f32[2,3]", op.apply(w, in(tf, "f32[*]")));
      assertTrue(a.op().isStateful());
      assertFalse(a.op().def().readsInput(0));
      assertTrue(a.op().def().readsInput(1));
      String node = type.equals("Assign") ? "Assign_3" : type + "_3";
      if (type.equals("Assign")) {
        // Automatic names do not collide with the initializer's w/Assign: Assign, Assign_1, Assign_2.
        assertEquals("Assign", a.name());
      }
      assertFails(type + " '" + node + "': value shape [3,2] does not match variable 'w' of shape [2,3]", tf,
          () -> op.apply(w, wrongShape));
      assertFails(type + " '" + node + "': value shape [3] does not match variable 'w' of shape [2,3]", tf,
          () -> op.apply(w, row));
      assertFails(type + " '" + node + "': value dtype f64 does not match variable 'w' of dtype f32", tf,
          () -> op.apply(w, wrongDType));
      assertFails(type + " '" + node + "': input 0 must be a Variable, got Placeholder 'x'", tf,
          () -> op.apply(x, x));
    }
    // Assignments other than the initializer do not replace it.
    assertEquals("w/Assign", w.initializer().name());
  }

  @Test
  @Covers("NoOp")
  void noOpHasNoOutputsAndGroupsControlInputs() {
    Ops tf = newOps();
    Variable a = tf.variable("a", tf.constant(1f));
    Variable b = tf.variable("b", tf.constant(2f));
    Operation nop = tf.noOp();
    assertEquals(0, nop.numOutputs());
    assertEquals(List.of(), nop.outputTypes());
    Operation group = tf.group(a.op(), b.op());
    assertEquals("NoOp_1", group.name());
    assertEquals(List.of(a.op(), b.op()), group.controlInputs());
    Operation init = tf.globalVariablesInitializer();
    assertEquals("init", init.name());
    assertEquals("NoOp", init.type());
    assertEquals(List.of(a.initializer(), b.initializer()), init.controlInputs());
    assertEquals("init_1", tf.globalVariablesInitializer().name());
    assertEquals("scope/init", tf.withSubScope("scope").globalVariablesInitializer().name());
    assertEquals("ready", tf.withName("ready").globalVariablesInitializer().name());
    assertFails("NoOp 'NoOp_2': expects 0 inputs, got 1", tf, () -> tf.opBuilder("NoOp").addInput(a).build());
  }

  @Test
  void constantOfEveryTensorFactoryKeepsItsValues() {
    Ops tf = newOps();
    Tensor t = Tensor.of(new double[] {1.5, -2}, 2, 1);
    Output c = tf.constant(t);
    assertEquals(t, c.op().attrs().getTensor("value"));
    assertArrayEquals(new double[] {1.5, -2}, c.op().attrs().getTensor("value").toDoubleArray());
  }
}
