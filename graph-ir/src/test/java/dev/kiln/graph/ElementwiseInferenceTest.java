package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(InferenceSupport.class)
class ElementwiseInferenceTest {
  private static Map<String, BiFunction<Ops, Output, Output>> numericUnary() {
    Map<String, BiFunction<Ops, Output, Output>> m = new LinkedHashMap<>();
    m.put("Neg", Ops::neg);
    m.put("Square", Ops::square);
    m.put("Abs", Ops::abs);
    m.put("Sign", Ops::sign);
    m.put("Relu", Ops::relu);
    return m;
  }

  private static Map<String, BiFunction<Ops, Output, Output>> floatUnary() {
    Map<String, BiFunction<Ops, Output, Output>> m = new LinkedHashMap<>();
    m.put("Sqrt", Ops::sqrt);
    m.put("Rsqrt", Ops::rsqrt);
    m.put("Reciprocal", Ops::reciprocal);
    m.put("Exp", Ops::exp);
    m.put("Log", Ops::log);
    m.put("Sin", Ops::sin);
    m.put("Cos", Ops::cos);
    m.put("Sigmoid", Ops::sigmoid);
    m.put("Tanh", Ops::tanh);
    return m;
  }

  private interface Binary {
    Output apply(Ops tf, Output x, Output y);
  }

  private static Map<String, Binary> arithmetic() {
    Map<String, Binary> m = new LinkedHashMap<>();
    m.put("Add", Ops::add);
    m.put("Mul", Ops::mul);
    m.put("Maximum", Ops::maximum);
    m.put("Minimum", Ops::minimum);
    m.put("Sub", Ops::sub);
    m.put("Div", Ops::div);
    m.put("Pow", Ops::pow);
    return m;
  }

  private static Map<String, Binary> orderings() {
    Map<String, Binary> m = new LinkedHashMap<>();
    m.put("Less", Ops::less);
    m.put("LessEqual", Ops::lessEqual);
    m.put("Greater", Ops::greater);
    m.put("GreaterEqual", Ops::greaterEqual);
    return m;
  }

  /** Operand types and the NumPy-broadcast result shape, worked out by hand. */
  private static final String[][] BROADCASTS = {
    {"[2,3]", "[2,3]", "[2,3]"},
    {"[2,3]", "[3]", "[2,3]"},
    {"[3]", "[2,3]", "[2,3]"},
    {"[]", "[2,3]", "[2,3]"},
    {"[2,1,3]", "[4,1]", "[2,4,3]"},
    {"[?,3]", "[1]", "[?,3]"},
    {"[?,1]", "[1,4]", "[?,4]"},
    {"[?]", "[5]", "[5]"},
    {"[5]", "[?]", "[5]"},
    {"[?]", "[?]", "[?]"},
    {"[?]", "[1]", "[?]"},
    {"[1]", "[?]", "[?]"},
    {"[0]", "[1]", "[0]"},
    {"[0,3]", "[3]", "[0,3]"},
    {"[*]", "[2]", "[*]"},
    {"[2,3]", "[*]", "[*]"},
  };

  @Test
  @Covers({"Neg", "Square", "Abs", "Sign", "Relu"})
  void numericUnaryKeepsTypeAndRejectsBool() {
    numericUnary().forEach((type, op) -> {
      Ops tf = newOps();
      assertType("f32[?,3]", op.apply(tf, in(tf, "f32[?,3]")));
      assertType("i32[2]", op.apply(tf, in(tf, "i32[2]")));
      assertType("i64[*]", op.apply(tf, in(tf, "i64[*]")));
      assertType("f64[]", op.apply(tf, in(tf, "f64[]")));
      Output b = in(tf, "bool[2]");
      assertFails(type + " '" + type + "_4': input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf,
          () -> op.apply(tf, b));
      assertTrue(tf.graph().operation(type).def().traits().contains(OpTrait.ELEMENTWISE));
    });
  }

  @Test
  @Covers({"Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos", "Sigmoid", "Tanh"})
  void floatUnaryKeepsTypeAndRejectsIntegers() {
    floatUnary().forEach((type, op) -> {
      Ops tf = newOps();
      assertType("f32[?,3]", op.apply(tf, in(tf, "f32[?,3]")));
      assertType("f64[*]", op.apply(tf, in(tf, "f64[*]")));
      Output i = in(tf, "i32[2]");
      assertFails(type + " '" + type + "_2': input 0 must be float (f32, f64, f16, bf16), got i32", tf,
          () -> op.apply(tf, i));
      Output b = in(tf, "bool[]");
      assertFails(type + " '" + type + "_2': input 0 must be float (f32, f64, f16, bf16), got bool", tf,
          () -> op.apply(tf, b));
    });
  }

  @Test
  @Covers({"ZerosLike", "OnesLike", "Identity", "StopGradient"})
  void typePreservingOpsAcceptEveryDType() {
    Ops tf = newOps();
    for (String t : List.of("f32[?,3]", "f64[]", "i32[2,?]", "i64[*]", "bool[4]")) {
      Output x = in(tf, t);
      assertType(t, tf.zerosLike(x));
      assertType(t, tf.onesLike(x));
      assertType(t, tf.identity(x));
      assertType(t, tf.stopGradient(x));
    }
    assertTrue(tf.graph().operation("Identity").def().traits().contains(OpTrait.VIEW));
    assertTrue(tf.graph().operation("StopGradient").def().traits().contains(OpTrait.VIEW));
    assertEquals("ZerosLike_5", tf.zerosLike(in(tf, "f32[]")).name());
  }

  @Test
  @Covers("LogicalNot")
  void logicalNotNeedsBool() {
    Ops tf = newOps();
    assertType("bool[?,2]", tf.logicalNot(in(tf, "bool[?,2]")));
    Output f = in(tf, "f32[2]");
    assertFails("LogicalNot 'LogicalNot_1': input 0 must be bool, got f32", tf, () -> tf.logicalNot(f));
  }

  @Test
  @Covers("Cast")
  void castChangesOnlyTheDType() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,3]");
    assertType("i64[?,3]", tf.cast(x, DType.INT64));
    assertType("bool[*]", tf.cast(in(tf, "i32[*]"), DType.BOOL));
    assertType("f64[?,3]", tf.cast(x, DType.FLOAT64));
    assertFails("Cast 'Cast_3': missing attribute 'dtype' (a dtype such as f32 or i64)", tf, () -> tf.opBuilder("Cast").addInput(x).build());
    assertFails("Cast 'Cast_3': attribute 'dtype' must be a dtype such as f32 or i64, got a string: \"f32\"", tf,
        () -> tf.opBuilder("Cast").addInput(x).setAttr("dtype", "f32").build());
  }

  @Test
  @Covers({"Add", "Mul", "Maximum", "Minimum", "Sub", "Div", "Pow"})
  void arithmeticBroadcastsLikeNumPy() {
    arithmetic().forEach((type, op) -> {
      Ops tf = newOps();
      for (String[] row : BROADCASTS) {
        Output z = op.apply(tf, in(tf, "f32" + row[0]), in(tf, "f32" + row[1]));
        assertType("f32" + row[2], z);
      }
      assertType("i64[2]", op.apply(tf, in(tf, "i64[2]"), in(tf, "i64[]")));
      assertType("i32[3]", op.apply(tf, in(tf, "i32[3]"), in(tf, "i32[3]")));
      assertType("f64[?]", op.apply(tf, in(tf, "f64[?]"), in(tf, "f64[1]")));
      String node = type + "_" + (BROADCASTS.length + 3);

      Output a = in(tf, "f32[2,3]");
      Output b = in(tf, "f32[4]");
      assertFails(type + " '" + node + "': shapes [2,3] and [4] do not broadcast", tf, () -> op.apply(tf, a, b));
      Output c = in(tf, "f32[?,3]");
      Output d = in(tf, "f32[2,4]");
      assertFails(type + " '" + node + "': shapes [?,3] and [2,4] do not broadcast", tf, () -> op.apply(tf, c, d));
      Output i = in(tf, "i32[2,3]");
      assertFails(type + " '" + node + "': dtypes differ: f32 vs i32", tf, () -> op.apply(tf, a, i));
      Output bools = in(tf, "bool[2]");
      assertFails(type + " '" + node + "': input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf,
          () -> op.apply(tf, bools, bools));
    });
  }

  @Test
  @Covers({"Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual"})
  void comparisonsGiveBoolAndBroadcast() {
    Map<String, Binary> all = orderings();
    all.put("Equal", Ops::equal);
    all.put("NotEqual", Ops::notEqual);
    all.forEach((type, op) -> {
      Ops tf = newOps();
      for (String[] row : BROADCASTS) {
        assertType("bool" + row[2], op.apply(tf, in(tf, "i32" + row[0]), in(tf, "i32" + row[1])));
      }
      assertType("bool[]", op.apply(tf, in(tf, "f64[]"), in(tf, "f64[]")));
      String node = type + "_" + (BROADCASTS.length + 1);
      Output a = in(tf, "f32[3]");
      Output b = in(tf, "f32[2]");
      assertFails(type + " '" + node + "': shapes [3] and [2] do not broadcast", tf, () -> op.apply(tf, a, b));
      Output d = in(tf, "f64[3]");
      assertFails(type + " '" + node + "': dtypes differ: f32 vs f64", tf, () -> op.apply(tf, a, d));
    });
    // Equality is defined on bool; orderings are not.
    Ops tf = newOps();
    Output p = in(tf, "bool[2]");
    Output q = in(tf, "bool[?]");
    assertType("bool[2]", tf.equal(p, q));
    assertType("bool[2]", tf.notEqual(p, q));
    orderings().forEach((type, op) -> assertFails(
        type + " '" + type + "': input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf, () -> op.apply(tf, p, q)));
  }

  @Test
  @Covers({"LogicalAnd", "LogicalOr"})
  void logicalBinaryOpsNeedBool() {
    Map<String, Binary> m = Map.of("LogicalAnd", Ops::logicalAnd, "LogicalOr", Ops::logicalOr);
    m.forEach((type, op) -> {
      Ops tf = newOps();
      assertType("bool[?,3]", op.apply(tf, in(tf, "bool[?,1]"), in(tf, "bool[3]")));
      Output b = in(tf, "bool[3]");
      Output f = in(tf, "f32[3]");
      Output c = in(tf, "bool[2]");
      assertFails(type + " '" + type + "_1': input 0 must be bool, got f32", tf, () -> op.apply(tf, f, b));
      assertFails(type + " '" + type + "_1': dtypes differ: bool vs f32", tf, () -> op.apply(tf, b, f));
      assertFails(type + " '" + type + "_1': shapes [3] and [2] do not broadcast", tf, () -> op.apply(tf, b, c));
      assertTrue(tf.graph().operation(type).def().traits().contains(OpTrait.COMMUTATIVE));
    });
  }

  @Test
  @Covers("Select")
  void selectBroadcastsAllThreeOperands() {
    Ops tf = newOps();
    assertType("f32[?,3]", tf.select(in(tf, "bool[?,1]"), in(tf, "f32[3]"), in(tf, "f32[1]")));
    assertType("i64[2,4,3]", tf.select(in(tf, "bool[]"), in(tf, "i64[2,1,3]"), in(tf, "i64[4,1]")));
    assertType("bool[*]", tf.select(in(tf, "bool[*]"), in(tf, "bool[2]"), in(tf, "bool[2]")));
    Output cond = in(tf, "bool[2]");
    Output f = in(tf, "f32[2]");
    Output d = in(tf, "f64[2]");
    Output three = in(tf, "f32[3]");
    assertFails("Select 'Select_3': input 0 must be bool, got f32", tf, () -> tf.select(f, f, f));
    assertFails("Select 'Select_3': dtypes differ: f32 vs f64", tf, () -> tf.select(cond, f, d));
    assertFails("Select 'Select_3': shapes [2] and [3] do not broadcast", tf, () -> tf.select(cond, three, three));
    assertFails("Select 'Select_3': shapes [2] and [3] do not broadcast", tf, () -> tf.select(cond, f, three));
  }

  @Test
  @Covers("AddN")
  void addNMergesCompatibleShapesWithoutBroadcasting() {
    Ops tf = newOps();
    assertType("f32[2,3]", tf.addN(List.of(in(tf, "f32[?,3]"), in(tf, "f32[2,?]"))));
    assertType("f32[2,3]", tf.addN(List.of(in(tf, "f32[?,3]"), in(tf, "f32[*]"), in(tf, "f32[2,?]"))));
    assertType("i32[4]", tf.addN(List.of(in(tf, "i32[4]"))));
    Output a = in(tf, "f32[2,3]");
    Output b = in(tf, "f32[3,3]");
    Output row = in(tf, "f32[3]");
    Output d = in(tf, "f64[2,3]");
    Output q = in(tf, "f32[?,?]");
    assertFails("AddN 'AddN_3': input 1 has shape [3,3], expected [2,3] like the inputs before it", tf,
        () -> tf.addN(List.of(a, b)));
    assertFails("AddN 'AddN_3': input 2 has shape [3,3], expected [2,3] like the inputs before it", tf,
        () -> tf.addN(List.of(q, a, b)));
    assertFails("AddN 'AddN_3': input 1 has shape [3], expected [2,3] like the inputs before it", tf,
        () -> tf.addN(List.of(a, row)));
    assertFails("AddN 'AddN_3': dtypes differ: f32 vs f64", tf, () -> tf.addN(List.of(a, d)));
    assertFails("AddN 'AddN_3': expects at least 1 input, got 0", tf, () -> tf.addN(List.of()));
    Output bools = in(tf, "bool[2]");
    assertFails("AddN 'AddN_3': input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf,
        () -> tf.addN(List.of(bools)));
  }

  @Test
  void arityIsCheckedBeforeInference() {
    Ops tf = newOps();
    Output x = in(tf, "f32[2]");
    assertFails("Add 'Add': expects 2 inputs, got 1", tf, () -> tf.opBuilder("Add").addInput(x).build());
    assertFails("Neg 'Neg': expects 1 input, got 2", tf, () -> tf.opBuilder("Neg").addInput(x).addInput(x).build());
    assertFails("Select 'Select': expects 3 inputs, got 2", tf,
        () -> tf.opBuilder("Select").addInput(x).addInput(x).build());
  }

  @Test
  void traitsDescribeTheOps() {
    Ops tf = newOps();
    Output x = in(tf, "f32[2]");
    assertTrue(tf.add(x, x).op().def().traits().contains(OpTrait.COMMUTATIVE));
    assertFalse(tf.sub(x, x).op().def().traits().contains(OpTrait.COMMUTATIVE));
    assertTrue(tf.sub(x, x).op().def().traits().contains(OpTrait.ELEMENTWISE));
    assertFalse(tf.add(x, x).op().isStateful());
    assertSame(OpRegistry.get("Add"), tf.graph().operation("Add").def());
  }
}
