package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** MatMul and the normalizations along an axis (Softmax, LogSoftmax). */
@ExtendWith(InferenceSupport.class)
class MatMulInferenceTest {
  @Test
  @Covers("MatMul")
  void matmulMultipliesRowsByColumns() {
    Ops tf = newOps();
    assertType("f32[64,100]", tf.matmul(in(tf, "f32[64,1000]"), in(tf, "f32[1000,100]")));
    assertType("f32[?,?]", tf.matmul(in(tf, "f32[?,1000]"), in(tf, "f32[1000,?]")));
    assertType("f32[?,5]", tf.matmul(in(tf, "f32[?,?]"), in(tf, "f32[3,5]")));
    assertType("i32[2,4]", tf.matmul(in(tf, "i32[2,3]"), in(tf, "i32[3,4]")));
    assertType("f64[0,4]", tf.matmul(in(tf, "f64[0,3]"), in(tf, "f64[3,4]")));
    assertType("f32[?,4]", tf.matmul(in(tf, "f32[*]"), in(tf, "f32[3,4]")));
    assertType("f32[2,?]", tf.matmul(in(tf, "f32[2,3]"), in(tf, "f32[*]")));
    assertType("f32[?,?]", tf.matmul(in(tf, "f32[*]"), in(tf, "f32[*]")));
    Output m = tf.matmul(in(tf, "f32[2,3]"), in(tf, "f32[3,4]"));
    assertEquals(false, m.op().attrs().getBool("transpose_a"));
    assertEquals(false, m.op().attrs().getBool("transpose_b"));
  }

  @Test
  @Covers("MatMul")
  void transposeFlagsSwapTheOperandsAxes() {
    Ops tf = newOps();
    assertType("f32[64,100]", tf.matmul(in(tf, "f32[1000,64]"), in(tf, "f32[1000,100]"), true, false));
    assertType("f32[64,100]", tf.matmul(in(tf, "f32[64,1000]"), in(tf, "f32[100,1000]"), false, true));
    assertType("f32[64,100]", tf.matmul(in(tf, "f32[1000,64]"), in(tf, "f32[100,1000]"), true, true));
    assertType("f32[?,7]", tf.matmul(in(tf, "f32[3,?]"), in(tf, "f32[7,3]"), true, true));
    // Attributes set directly: absent flags mean false.
    Output a = in(tf, "f32[3,2]");
    Output b = in(tf, "f32[3,5]");
    assertType("f32[2,5]", tf.opBuilder("MatMul").addInput(a).addInput(b).setAttr("transpose_a", true).build().output(0));
    assertType("f32[2,5]",
        tf.opBuilder("MatMul").addInput(in(tf, "f32[2,3]")).addInput(b).build().output(0));
  }

  @Test
  void matmulFailuresNameTheOperandsAsGiven() {
    Ops tf = newOps().withSubScope("dense");
    Output a = in(tf, "f32[64,1000]");
    Output b = in(tf, "f32[100,10]");
    Output at = in(tf, "f32[1000,64]");
    Output row = in(tf, "f32[3]");
    Output cube = in(tf, "f32[2,3,4]");
    Output ints = in(tf, "i32[1000,10]");
    Output bools = in(tf, "bool[2,2]");
    Output unknownInner = in(tf, "f32[?,10]");
    assertType("f32[64,10]", tf.matmul(a, unknownInner));
    String node = "MatMul 'dense/MatMul_1': ";
    assertFails(node + "inner dimensions differ: [64,1000] x [100,10]", tf, () -> tf.matmul(a, b));
    assertFails(node + "inner dimensions differ: [64,1000]^T x [100,10]", tf, () -> tf.matmul(a, b, true, false));
    assertFails(node + "inner dimensions differ: [64,1000] x [100,10]^T", tf, () -> tf.matmul(a, b, false, true));
    assertFails(node + "inner dimensions differ: [1000,64]^T x [100,10]^T", tf, () -> tf.matmul(at, b, true, true));
    assertFails(node + "input 0 must be rank 2, got [3]", tf, () -> tf.matmul(row, b));
    // Ops.matmul makes a BatchMatMul for a rank-3 operand; a MatMul node itself takes matrices only.
    assertFails(node + "input 1 must be rank 2, got [2,3,4]", tf,
        () -> tf.opBuilder("MatMul").addInput(a).addInput(cube).build());
    assertFails(node + "dtypes differ: f32 vs i32", tf, () -> tf.matmul(a, ints));
    assertFails(node + "input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf, () -> tf.matmul(bools, bools));
    assertFails(node + "attribute 'transpose_a' must be a bool (true or false), got an int: 1", tf,
        () -> tf.opBuilder("MatMul").addInput(a).addInput(b).setAttr("transpose_a", 1).build());
    assertFails(node + "expects 2 inputs, got 1", tf, () -> tf.opBuilder("MatMul").addInput(a).build());
  }

  @Test
  @Covers({"Softmax", "LogSoftmax"})
  void softmaxKeepsTheShapeAndChecksTheAxis() {
    for (String type : List.of("Softmax", "LogSoftmax")) {
      Ops tf = newOps();
      boolean log = type.equals("LogSoftmax");
      java.util.function.BiFunction<Output, Integer, Output> op =
          (x, axis) -> log ? tf.logSoftmax(x, axis) : tf.softmax(x, axis);
      assertType("f32[?,10]", log ? tf.logSoftmax(in(tf, "f32[?,10]")) : tf.softmax(in(tf, "f32[?,10]")));
      assertType("f64[2,3,4]", op.apply(in(tf, "f64[2,3,4]"), 0));
      assertType("f32[2,3]", op.apply(in(tf, "f32[2,3]"), -2));
      assertType("f32[*]", op.apply(in(tf, "f32[*]"), 5));
      assertType("f32[7]", tf.opBuilder(type).addInput(in(tf, "f32[7]")).build().output(0));
      String node = type + " '" + type + "_5': ";
      Output m = in(tf, "f32[?,10]");
      Output s = in(tf, "f32[]");
      Output i = in(tf, "i32[2]");
      assertFails(node + "axis 2 out of range for rank 2 input [?,10]", tf, () -> op.apply(m, 2));
      assertFails(node + "axis -3 out of range for rank 2 input [?,10]", tf, () -> op.apply(m, -3));
      assertFails(node + "input must have rank >= 1, got a scalar", tf, () -> op.apply(s, -1));
      assertFails(node + "input 0 must be float (f32, f64, f16, bf16), got i32", tf, () -> op.apply(i, -1));
      assertFails(node + "attribute 'axis' must be an int, got a float: 1.0", tf,
          () -> tf.opBuilder(type).addInput(m).setAttr("axis", 1.0).build());
    }
  }
}
