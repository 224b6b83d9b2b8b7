package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(InferenceSupport.class)
class ReductionInferenceTest {
  private interface Reduction {
    Output apply(Ops tf, Output x, int[] axes, boolean keepDims);
  }

  private static Reduction reduction(String type) {
    return switch (type) {
      case "Sum" -> Ops::reduceSum;
      case "Mean" -> Ops::reduceMean;
      case "Max" -> Ops::reduceMax;
      case "Min" -> Ops::reduceMin;
      case "Prod" -> Ops::reduceProd;
      default -> throw new IllegalArgumentException(type);
    };
  }

  @Test
  @Covers({"Sum", "Mean", "Max", "Min", "Prod"})
  void reductionsDropOrKeepTheReducedAxes() {
    for (String type : List.of("Sum", "Mean", "Max", "Min", "Prod")) {
      Ops tf = newOps();
      Reduction r = reduction(type);
      Output x = in(tf, "f32[2,3,4]");
      assertType("f32[2,4]", r.apply(tf, x, new int[] {1}, false));
      assertType("f32[2,1,4]", r.apply(tf, x, new int[] {1}, true));
      assertType("f32[2,3]", r.apply(tf, x, new int[] {-1}, false));
      assertType("f32[1,3,1]", r.apply(tf, x, new int[] {2, 0}, true));
      assertType("f32[]", r.apply(tf, x, new int[] {0, 1, 2}, false));
      assertType("f32[1,1,1]", r.apply(tf, x, new int[] {0, -2, 2}, true));
      assertType("f32[2,3,4]", r.apply(tf, x, new int[0], false));
      assertType("i32[3]", r.apply(tf, in(tf, "i32[?,3]"), new int[] {0}, false));
      assertType("i64[?,1]", r.apply(tf, in(tf, "i64[?,3]"), new int[] {1}, true));
      assertType("f64[*]", r.apply(tf, in(tf, "f64[*]"), new int[] {0}, true));
      assertType("f64[*]", r.apply(tf, in(tf, "f64[*]"), new int[] {7}, false));
      assertEquals(List.of(0L, 2L), r.apply(tf, x, new int[] {2, 0}, false).op().attrs().getLongs("axes"));

      String node = type + " '" + type + "_12': ";
      Output b = in(tf, "bool[2]");
      assertFails(node + "axis 3 out of range for rank 3 input [2,3,4]", tf, () -> r.apply(tf, x, new int[] {3}, false));
      assertFails(node + "axis -4 out of range for rank 3 input [2,3,4]", tf,
          () -> r.apply(tf, x, new int[] {0, -4}, true));
      assertFails(node + "axis 1 listed twice", tf, () -> r.apply(tf, x, new int[] {1, -2}, false));
      assertFails(node + "input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf,
          () -> r.apply(tf, b, new int[] {0}, false));
      assertFails(node + "axis -2 listed twice", tf,
          () -> tf.opBuilder(type).addInput(x).setAttr("axes", new int[] {1, -2}).build());
      assertFails(node + "missing attribute 'axes' (an int list such as array<0, 1>)", tf, () -> tf.opBuilder(type).addInput(x).build());
      assertFails(node + "attribute 'axes' must be an int list such as array<0, 1>, got an int: 1", tf,
          () -> tf.opBuilder(type).addInput(x).setAttr("axes", 1).build());
      assertFails(node + "attribute 'keep_dims' must be a bool (true or false), got an int: 1", tf,
          () -> tf.opBuilder(type).addInput(x).setAttr("axes", new int[] {0}).setAttr("keep_dims", 1).build());
    }
  }

  @Test
  @Covers({"Sum", "Mean", "Max"})
  void reducingOverAllAxesGivesAScalar() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,3]");
    assertType("f32[]", tf.reduceSum(x));
    assertType("f32[]", tf.reduceMean(x));
    assertType("i32[]", tf.reduceMax(in(tf, "i32[2,2,2]")));
    assertType("f32[]", tf.reduceSum(in(tf, "f32[]")));
    assertEquals(List.of(0L, 1L), tf.reduceSum(x).op().attrs().getLongs("axes"));
    Output u = in(tf, "f32[*]");
    assertFails("Sum of 'Placeholder_3': reducing over all axes needs a known rank, got [*]", tf, () -> tf.reduceSum(u));
    assertFails("Mean of 'Placeholder_3': reducing over all axes needs a known rank, got [*]", tf, () -> tf.reduceMean(u));
  }

  @Test
  @Covers("ReduceSumLike")
  void reduceSumLikeSumsDownToTheBroadcastShape() {
    Ops tf = newOps();
    assertType("f32[3]", tf.reduceSumLike(in(tf, "f32[4,3]"), in(tf, "f32[3]")));
    assertType("f32[1,3]", tf.reduceSumLike(in(tf, "f32[4,3]"), in(tf, "f32[1,3]")));
    assertType("f32[4,1]", tf.reduceSumLike(in(tf, "f32[4,3]"), in(tf, "f32[4,1]")));
    assertType("f32[]", tf.reduceSumLike(in(tf, "f32[2,3]"), in(tf, "f32[]")));
    assertType("f32[2,3]", tf.reduceSumLike(in(tf, "f32[2,3]"), in(tf, "f32[2,3]")));
    assertType("f32[3]", tf.reduceSumLike(in(tf, "f32[?,3]"), in(tf, "f32[3]")));
    assertType("f32[5,3]", tf.reduceSumLike(in(tf, "f32[?,3]"), in(tf, "f32[5,3]")));
    assertType("f32[3]", tf.reduceSumLike(in(tf, "f32[*]"), in(tf, "f32[3]")));
    assertType("i64[*]", tf.reduceSumLike(in(tf, "i64[2]"), in(tf, "f32[*]")));
    String node = "ReduceSumLike 'ReduceSumLike_9': ";
    Output x = in(tf, "f32[4,3]");
    Output col = in(tf, "f32[4]");
    Output big = in(tf, "f32[2,3]");
    Output v = in(tf, "f32[3]");
    Output b = in(tf, "bool[3]");
    assertFails(node + "shape [4] does not broadcast to [4,3], so [4,3] cannot be summed to it", tf,
        () -> tf.reduceSumLike(x, col));
    assertFails(node + "shape [2,3] does not broadcast to [3], so [3] cannot be summed to it", tf,
        () -> tf.reduceSumLike(v, big));
    assertFails(node + "shape [2,3] does not broadcast to [4,3], so [4,3] cannot be summed to it", tf,
        () -> tf.reduceSumLike(x, big));
    assertFails(node + "input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf, () -> tf.reduceSumLike(b, v));
  }

  @Test
  @Covers("ArgMax")
  void argMaxDropsTheAxisAndGivesIntegers() {
    Ops tf = newOps();
    assertType("i64[2]", tf.argMax(in(tf, "f32[2,3]"), 1));
    assertType("i64[3]", tf.argMax(in(tf, "f32[2,3]"), -2));
    assertType("i64[?,4]", tf.argMax(in(tf, "i32[?,3,4]"), 1));
    assertType("i64[]", tf.argMax(in(tf, "f64[5]"), 0));
    assertType("i64[*]", tf.argMax(in(tf, "f32[*]"), 3));
    assertType("i32[2]", tf.opBuilder("ArgMax").addInput(in(tf, "f32[2,3]")).setAttr("axis", 1)
        .setAttr("output_type", DType.INT32).build().output(0));
    assertType("i64[2]", tf.opBuilder("ArgMax").addInput(in(tf, "f32[2,3]")).setAttr("axis", 1).build().output(0));
    String node = "ArgMax 'ArgMax_7': ";
    Output m = in(tf, "f32[2,3]");
    Output s = in(tf, "f32[]");
    Output b = in(tf, "bool[2]");
    assertFails(node + "axis 2 out of range for rank 2 input [2,3]", tf, () -> tf.argMax(m, 2));
    assertFails(node + "axis -3 out of range for rank 2 input [2,3]", tf, () -> tf.argMax(m, -3));
    assertFails(node + "input must have rank >= 1, got a scalar", tf, () -> tf.argMax(s, 0));
    assertFails(node + "input 0 must be numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16), got bool", tf, () -> tf.argMax(b, 0));
    assertFails(node + "attribute 'output_type' must be one of i32, i64, got f32", tf, () -> tf.opBuilder("ArgMax")
        .addInput(m).setAttr("axis", 0).setAttr("output_type", DType.FLOAT32).build());
    assertFails(node + "missing attribute 'axis' (an int)", tf, () -> tf.opBuilder("ArgMax").addInput(m).build());
  }
}
