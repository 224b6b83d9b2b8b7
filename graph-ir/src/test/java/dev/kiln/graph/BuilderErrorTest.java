package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad input to the builder fails at once, says what is wrong, and leaves the graph as it was. */
class BuilderErrorTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  @Test
  void wrongDType() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    Output n = tf.placeholder("n", DType.INT32, Shape.of(2));
    assertFails("Add 'Add': dtypes differ: f32 vs i32", tf, () -> tf.add(x, n));
    assertFails("Log 'Log': input 0 must be float (f32, f64, f16, bf16), got i32", tf, () -> tf.log(n));
    assertFails("MatMul 'layer/MatMul': input 0 must be rank 2, got [2]", tf,
        () -> tf.withSubScope("layer").matmul(x, x));
  }

  @Test
  void negativeDimensionOtherThanMinusOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(-2));
    assertEquals("dimension 0 of shape [-2] is -2: a dimension is a size >= 0 or -1 for unknown", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.placeholder("x", DType.FLOAT32, Shape.of(3, -5)));
    assertEquals("dimension 1 of shape [3,-5] is -5: a dimension is a size >= 0 or -1 for unknown", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.reshape(tf.constant(1f), 1, -3));
    assertEquals("dimension 1 of shape [1,-3] is -3: a dimension is a size >= 0 or -1 for unknown", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Shape.unknownDims(-1));
    assertEquals("rank must be >= 0, got -1", e.getMessage());
    assertEquals(1, g.size());
  }

  @Test
  void axisOutOfRange() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 10));
    assertFails("Sum 'Sum': axis 2 out of range for rank 2 input [?,10]", tf, () -> tf.reduceSum(x, new int[] {2}, false));
    assertFails("Softmax 'Softmax': axis -3 out of range for rank 2 input [?,10]", tf, () -> tf.softmax(x, -3));
    assertFails("Concat 'Concat': axis 5 out of range for rank 2 input [?,10]", tf, () -> tf.concat(List.of(x, x), 5));
  }

  @Test
  void unknownNodeName() {
    tf.placeholder("x", DType.FLOAT32, Shape.scalar());
    tf.noOp();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.operation("nope"));
    assertEquals("no node named 'nope' in the graph", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.output("nope:1"));
    assertEquals("no node named 'nope' in the graph", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.output("x:abc"));
    assertEquals("no node named 'x:abc' in the graph", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.output("x:1"));
    assertEquals("no output 'x:1': Placeholder 'x' has 1 output", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.output("x:99999999999"));
    assertEquals("no output 'x:99999999999': Placeholder 'x' has 1 output", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.output("NoOp"));
    assertEquals("no output 'NoOp': NoOp 'NoOp' has 0 outputs", e.getMessage());
    assertTrue(g.findOperation("nope").isEmpty());
    IndexOutOfBoundsException oob = assertThrows(IndexOutOfBoundsException.class, () -> g.operation("x").output(1));
    assertEquals("Placeholder 'x' has no output 1 (it has 1)", oob.getMessage());
    oob = assertThrows(IndexOutOfBoundsException.class, () -> g.operation("NoOp").outputType(0));
    assertEquals("NoOp 'NoOp' has no output 0 (it has 0)", oob.getMessage());
  }

  @Test
  void duplicateNames() {
    Output one = tf.constant(1f);
    Variable w = tf.variable("w", one);
    assertFails("Variable 'w': name already used by Variable 'w'", tf, () -> tf.variable("w", one));
    assertFails("Placeholder 'w': name already used by Variable 'w'", tf,
        () -> tf.placeholder("w", DType.FLOAT32, Shape.scalar()));
    assertFails("Add 'w/Assign': name already used by Assign 'w/Assign'", tf, () -> tf.withName("w/Assign").add(w, w));
    Ops named = tf.withName("sum");
    named.add(w, w);
    assertFails("Mul 'sum': name already used by Add 'sum'", tf, () -> named.mul(w, w));
    // An explicit name is never suffixed; an automatic one is.
    assertEquals("Add", tf.add(w, w).name());
    assertEquals("Add_1", tf.add(w, w).name());
  }

  @Test
  void invalidNames() {
    String rule = "' (letters, digits, and _ . - / after the first character)";
    for (String bad : List.of("a b", "", "x:0", "a/", "_x", "/a", "é")) {
      assertFails("Placeholder: invalid node name '" + bad + rule, tf,
          () -> tf.placeholder(bad, DType.FLOAT32, Shape.scalar()));
    }
    for (String bad : List.of("a b", "", "s:1", "/s", "s/")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.withSubScope(bad));
      assertEquals("invalid scope name '" + bad + rule, e.getMessage());
    }
    Output x = tf.placeholder("a.b-c/d_1", DType.FLOAT32, Shape.scalar());
    assertEquals("a.b-c/d_1", x.name());
    assertEquals("1st/Neg", tf.withSubScope("1st").neg(x).name());
    assertFails("Neg: invalid node name 'a b" + rule, tf, () -> tf.withName("a b").neg(x));
    assertFails("Neg: invalid node name 'scope/" + rule, tf, () -> tf.withSubScope("scope").withName("").neg(x));
  }

  @Test
  void inputsFromAnotherGraph() {
    Ops other = Ops.create(new Graph());
    Output foreign = other.placeholder("y", DType.FLOAT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.scalar());
    assertFails("Add 'Add': input 1 'y' belongs to another graph", tf, () -> tf.add(x, foreign));
    assertFails("Variable 'v': input 0 'y' belongs to another graph", tf, () -> tf.variable("v", foreign));
    assertFails("NoOp 'NoOp': control input 'y' belongs to another graph", tf, () -> tf.group(foreign.op()));
    assertFails("Neg 'Neg': control input 'y' belongs to another graph", tf,
        () -> tf.withControlDependencies(List.of(foreign.op())).neg(x));
    assertEquals(List.of(), g.variables());
  }

  @Test
  void nullInputsAndAttributes() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.scalar());
    int before = g.size();
    NullPointerException e = assertThrows(NullPointerException.class, () -> tf.add(null, x));
    assertEquals("Add: input 0 is null", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> tf.add(x, null));
    assertEquals("Add: input 1 is null", e.getMessage());
    List<Output> withNull = new ArrayList<>();
    withNull.add(x);
    withNull.add(null);
    e = assertThrows(NullPointerException.class, () -> tf.addN(withNull));
    assertEquals("AddN: input 1 is null", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> tf.cast(x, null));
    assertEquals("Cast: attribute 'dtype' is null", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> tf.group(x.op(), null));
    assertEquals("NoOp: control input is null", e.getMessage());
    assertEquals(before, g.size());
  }

  @Test
  void unsupportedAttributeValues() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.scalar());
    String expected = " (expected long, double, boolean, String, DType, Shape, Tensor, int[] or long[])";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.opBuilder("Neg").addInput(x).setAttr("note", new Object()));
    assertEquals("Neg: attribute 'note': unsupported value type Object" + expected, e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.opBuilder("Neg").setAttr("w", new float[] {1}));
    assertEquals("Neg: attribute 'w': unsupported value type float[]" + expected, e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> tf.opBuilder("Neg").setAttr("names", new ArrayList<>(List.of("a"))));
    assertEquals("Neg: attribute 'names': unsupported value type ArrayList" + expected, e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Attrs.builder().set("k", null));
    assertEquals("attribute 'k' is null", e.getMessage());
    assertEquals(1, g.size());
  }

  @Test
  void tensorDataThatDoesNotFillItsShape() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.of(new float[] {1, 2, 3}, 2, 2));
    assertEquals("Tensor.of: 3 values do not fill shape [2,2] (4 elements)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new int[] {1, 2}));
    assertEquals("Tensor.of: 2 values do not fill shape [] (1 element)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new long[] {1, 2}, -1));
    assertEquals("a tensor's shape must be fully defined, got [?]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new double[] {1}, -2));
    assertEquals("dimension 0 of shape [-2] is -2: a dimension is a size >= 0 or -1 for unknown", e.getMessage());
  }

  @Test
  void unknownOpTypeAndBadDevice() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.opBuilder("Nope", null).build());
    assertEquals("unknown op type 'Nope'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.withDevice("/tpu:0"));
    assertEquals("invalid device '/tpu:0' (expected /cpu:N or /gpu:N)", e.getMessage());
    assertEquals(0, g.size());
  }

  @Test
  void compositeBuildersAddAllOrNothing() {
    Output partial = in(tf, "f32[?,3]");
    int before = g.size();
    assertFails("Variable 'v': initial value must have a fully defined shape, got [?,3]", tf,
        () -> tf.variable("v", partial));
    assertEquals(before, g.size());
    assertEquals(List.of(), g.variables());
    // The name is free again: the failed variable left nothing behind.
    Variable v = tf.variable("v", tf.constant(Tensor.zeros(DType.FLOAT32, Shape.of(2, 3))));
    assertEquals("v/Assign", v.initializer().name());
  }
}
