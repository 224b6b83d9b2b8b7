package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Ops that move or reinterpret elements: reshapes, axis insertion and removal, transpose, concat, slice, pad, one-hot. */
@ExtendWith(InferenceSupport.class)
class LayoutInferenceTest {
  @Test
  @Covers("Reshape")
  void reshapeInfersTheMinusOneDimension() {
    Ops tf = newOps();
    Output x = in(tf, "i32[2,3]");
    assertType("i32[3,2]", tf.reshape(x, 3, 2));
    assertType("i32[6]", tf.reshape(x, -1));
    assertType("i32[3,2]", tf.reshape(x, -1, 2));
    assertType("i32[1,6,1]", tf.reshape(x, 1, -1, 1));
    assertType("i32[2,3]", tf.reshape(x, Shape.of(2, 3)));
    assertType("f32[]", tf.reshape(in(tf, "f32[1,1]")));
    assertType("f32[?,3]", tf.reshape(in(tf, "f32[?,3]"), -1, 3));
    assertType("f32[6]", tf.reshape(in(tf, "f32[?,3]"), 6));
    assertType("f32[2,?]", tf.reshape(in(tf, "f32[*]"), 2, -1));
    assertType("f32[0,3]", tf.reshape(in(tf, "f32[0,3]"), -1, 3));
    assertType("f32[4,0]", tf.reshape(in(tf, "f32[0,3]"), 4, -1));
    assertTrue(x.graph().operation("Reshape").def().traits().contains(OpTrait.VIEW));

    String node = "Reshape 'Reshape_11': ";
    Output empty = in(tf, "f32[0,3]");
    assertFails(node + "cannot reshape [2,3] (6 elements) to [4] (4 elements)", tf, () -> tf.reshape(x, 4));
    assertFails(node + "cannot reshape [2,3] (6 elements) to [?,4]", tf, () -> tf.reshape(x, -1, 4));
    assertFails(node + "target shape [?,?] has more than one unknown (-1) dimension", tf, () -> tf.reshape(x, -1, -1));
    assertFails(node + "cannot reshape [0,3] (0 elements) to [?,0]", tf, () -> tf.reshape(empty, -1, 0));
    assertFails(node + "target shape must have a known rank", tf, () -> tf.reshape(x, Shape.unknown()));
    assertFails(node + "missing attribute 'shape' (a shape such as [2,?] or [*])", tf, () -> tf.opBuilder("Reshape").addInput(x).build());
    Output partial = in(tf, "f32[?,4]");
    assertType("f32[8]", tf.reshape(partial, 8));
    assertType("f32[2,?]", tf.reshape(partial, 2, -1));
    assertType("f32[3]", tf.reshape(in(tf, "f32[0,?]"), 3));
    assertFails("Reshape 'Reshape_14': cannot reshape [?,4] (a multiple of 4 elements) to [6] (6 elements)", tf,
        () -> tf.reshape(partial, 6));
    assertFails("Reshape 'Reshape_14': cannot reshape [?,4] (a multiple of 4 elements) to [3,3] (9 elements)", tf,
        () -> tf.reshape(partial, 3, 3));
  }

  @Test
  @Covers("ReshapeLike")
  void reshapeLikeTakesTheOtherShapeAndKeepsItsDType() {
    Ops tf = newOps();
    assertType("i32[3,2]", tf.reshapeLike(in(tf, "i32[2,3]"), in(tf, "f32[3,2]")));
    assertType("f32[?,2]", tf.reshapeLike(in(tf, "f32[2,3]"), in(tf, "f32[?,2]")));
    assertType("f32[6]", tf.reshapeLike(in(tf, "f32[*]"), in(tf, "f32[6]")));
    Output x = in(tf, "f32[2,3]");
    Output like = in(tf, "f32[4]");
    assertFails("ReshapeLike 'ReshapeLike_3': cannot reshape [2,3] (6 elements) like [4] (4 elements)", tf,
        () -> tf.reshapeLike(x, like));
  }

  @Test
  @Covers("ExpandDims")
  void expandDimsInsertsASizeOneAxis() {
    Ops tf = newOps();
    Output x = in(tf, "f32[2,3]");
    assertType("f32[1,2,3]", tf.expandDims(x, 0));
    assertType("f32[2,1,3]", tf.expandDims(x, 1));
    assertType("f32[2,3,1]", tf.expandDims(x, 2));
    assertType("f32[2,3,1]", tf.expandDims(x, -1));
    assertType("f32[1,2,3]", tf.expandDims(x, -3));
    assertType("i64[1]", tf.expandDims(in(tf, "i64[]"), 0));
    assertType("i64[1]", tf.expandDims(in(tf, "i64[]"), -1));
    assertType("f32[?,1]", tf.expandDims(in(tf, "f32[?]"), 1));
    assertType("f32[*]", tf.expandDims(in(tf, "f32[*]"), 9));
    String node = "ExpandDims 'ExpandDims_9': ";
    assertFails(node + "axis 3 out of range for rank 2 input [2,3]: a new axis goes at -3..2", tf,
        () -> tf.expandDims(x, 3));
    assertFails(node + "axis -4 out of range for rank 2 input [2,3]: a new axis goes at -3..2", tf,
        () -> tf.expandDims(x, -4));
    assertFails(node + "missing attribute 'axis' (an int)", tf, () -> tf.opBuilder("ExpandDims").addInput(x).build());
  }

  @Test
  @Covers("Squeeze")
  void squeezeRemovesSizeOneAxes() {
    Ops tf = newOps();
    Output x = in(tf, "f32[1,2,1,3]");
    assertType("f32[2,3]", tf.squeeze(x));
    assertType("f32[2,1,3]", tf.squeeze(x, 0));
    assertType("f32[1,2,3]", tf.squeeze(x, -2));
    assertType("f32[2,3]", tf.squeeze(x, 2, 0));
    assertType("f32[1]", tf.squeeze(in(tf, "f32[?,1]"), 0));
    assertType("f32[]", tf.squeeze(in(tf, "f32[1,1]")));
    assertType("f32[2]", tf.squeeze(in(tf, "f32[2]")));
    String node = "Squeeze 'Squeeze_7': ";
    Output unknownDim = in(tf, "f32[?,1]");
    Output empty = in(tf, "f32[0,2]");
    Output unknownRank = in(tf, "f32[*]");
    assertFails(node + "dimension 0 of [?,1] is unknown: name the axes to squeeze", tf, () -> tf.squeeze(unknownDim));
    assertFails(node + "cannot squeeze axis 1 of size 2 in [1,2,1,3]", tf, () -> tf.squeeze(x, 1));
    assertFails(node + "cannot squeeze axis -1 of size 3 in [1,2,1,3]", tf, () -> tf.squeeze(x, 0, -1));
    assertFails(node + "cannot squeeze axis 0 of size 0 in [0,2]", tf, () -> tf.squeeze(empty, 0));
    assertFails(node + "axis 4 out of range for rank 4 input [1,2,1,3]", tf, () -> tf.squeeze(x, 4));
    assertFails(node + "input of unknown rank: name the axes to squeeze", tf, () -> tf.squeeze(unknownRank));
    assertType("f32[*]", tf.squeeze(unknownRank, 0, 2));
  }

  @Test
  @Covers("Transpose")
  void transposePermutesTheAxes() {
    Ops tf = newOps();
    Output x = in(tf, "f32[2,3,4]");
    assertType("f32[4,2,3]", tf.transpose(x, 2, 0, 1));
    assertType("f32[2,3,4]", tf.transpose(x, 0, 1, 2));
    assertType("f32[4,3,2]", tf.transpose(x));
    assertType("i32[3,?]", tf.transpose(in(tf, "i32[?,3]")));
    assertType("f32[?,?]", tf.transpose(in(tf, "f32[*]"), 1, 0));
    assertType("f32[]", tf.transpose(in(tf, "f32[]")));
    String node = "Transpose 'Transpose_6': ";
    Output u = in(tf, "f32[*]");
    assertFails(node + "perm [1, 0] has 2 entries for rank 3 input [2,3,4]", tf, () -> tf.transpose(x, 1, 0));
    assertFails(node + "perm [0, 0, 1] is not a permutation of 0..2", tf, () -> tf.transpose(x, 0, 0, 1));
    assertFails(node + "perm [0, 3, 1] is not a permutation of 0..2", tf, () -> tf.transpose(x, 0, 3, 1));
    assertFails(node + "perm [-1, 0, 1] is not a permutation of 0..2", tf, () -> tf.transpose(x, -1, 0, 1));
    assertFails(node + "perm [1, 1] is not a permutation of 0..1", tf, () -> tf.transpose(u, 1, 1));
    assertFails("Transpose of 'Placeholder_4': input has unknown rank; pass perm", tf, () -> tf.transpose(u));
  }

  @Test
  @Covers("Concat")
  void concatAddsUpTheAxisAndChecksTheRest() {
    Ops tf = newOps();
    assertType("f32[6,3]", tf.concat(List.of(in(tf, "f32[2,3]"), in(tf, "f32[4,3]")), 0));
    assertType("f32[2,8]", tf.concat(List.of(in(tf, "f32[2,3]"), in(tf, "f32[2,5]")), -1));
    assertType("f32[2,9]", tf.concat(List.of(in(tf, "f32[2,3]"), in(tf, "f32[?,1]"), in(tf, "f32[2,5]")), 1));
    assertType("f32[?,3]", tf.concat(List.of(in(tf, "f32[?,3]"), in(tf, "f32[4,3]")), 0));
    assertType("f32[?,3]", tf.concat(List.of(in(tf, "f32[2,?]"), in(tf, "f32[?,3]")), 0));
    assertType("f32[2,?]", tf.concat(List.of(in(tf, "f32[*]"), in(tf, "f32[2,3]")), 1));
    assertType("f32[?,3]", tf.concat(List.of(in(tf, "f32[2,3]"), in(tf, "f32[*]")), 0));
    assertType("f32[*]", tf.concat(List.of(in(tf, "f32[*]"), in(tf, "f32[*]")), 0));
    assertType("bool[5]", tf.concat(List.of(in(tf, "bool[5]")), 0));
    String node = "Concat 'Concat_9': ";
    Output a = in(tf, "f32[2,3]");
    Output b = in(tf, "f32[1,3]");
    Output c = in(tf, "f32[2,4]");
    Output v = in(tf, "f32[3]");
    Output s = in(tf, "f32[]");
    Output u = in(tf, "f32[*]");
    Output i = in(tf, "i32[2,3]");
    assertFails(node + "input 1 has shape [2,4], which differs from [2,3] outside axis 0", tf,
        () -> tf.concat(List.of(a, c), 0));
    assertFails(node + "input 2 has shape [2,4], which differs from [3,3] outside axis 0", tf,
        () -> tf.concat(List.of(a, b, c), 0));
    assertFails(node + "input 1 has rank 1, expected 2: [3]", tf, () -> tf.concat(List.of(a, v), 0));
    assertFails(node + "input 2 has rank 1, expected 2: [3]", tf, () -> tf.concat(List.of(u, a, v), 0));
    assertFails(node + "axis 2 out of range for rank 2 input [2,3]", tf, () -> tf.concat(List.of(a, a), 2));
    assertFails(node + "axis -3 out of range for rank 2 input [2,3]", tf, () -> tf.concat(List.of(u, a), -3));
    assertFails(node + "cannot concatenate scalars", tf, () -> tf.concat(List.of(s, s), 0));
    assertFails(node + "dtypes differ: f32 vs i32", tf, () -> tf.concat(List.of(a, i), 0));
    assertFails(node + "expects at least 1 input, got 0", tf, () -> tf.concat(List.of(), 0));
  }

  @Test
  @Covers("Slice")
  void sliceTakesSizesOrRunsToTheEnd() {
    Ops tf = newOps();
    Output x = in(tf, "f32[4,5]");
    assertType("f32[2,3]", tf.slice(x, new int[] {1, 2}, new int[] {2, -1}));
    assertType("f32[4,5]", tf.slice(x, new int[] {0, 0}, new int[] {-1, -1}));
    assertType("f32[0,5]", tf.slice(x, new int[] {4, 0}, new int[] {-1, 5}));
    assertType("f32[?,2]", tf.slice(in(tf, "f32[?,5]"), new int[] {1, 0}, new int[] {-1, 2}));
    assertType("f32[3,2]", tf.slice(in(tf, "f32[?,5]"), new int[] {7, 0}, new int[] {3, 2}));
    assertType("i32[1,?]", tf.slice(in(tf, "i32[*]"), new int[] {0, 0}, new int[] {1, -1}));
    String node = "Slice 'Slice_6': ";
    assertFails(node + "begin [0] and size [1, 1] differ in length", tf,
        () -> tf.slice(x, new int[] {0}, new int[] {1, 1}));
    assertFails(node + "begin [0] has 1 entries for rank 2 input [4,5]", tf,
        () -> tf.slice(x, new int[] {0}, new int[] {1}));
    assertFails(node + "begin [-1, 0] / size [1, 1]: begin must be >= 0 and size >= 0 or -1", tf,
        () -> tf.slice(x, new int[] {-1, 0}, new int[] {1, 1}));
    assertFails(node + "begin [0, 0] / size [1, -2]: begin must be >= 0 and size >= 0 or -1", tf,
        () -> tf.slice(x, new int[] {0, 0}, new int[] {1, -2}));
    assertFails(node + "slice begin [3, 0] size [2, 5] is out of bounds for [4,5]", tf,
        () -> tf.slice(x, new int[] {3, 0}, new int[] {2, 5}));
    assertFails(node + "slice begin [0, 6] size [1, -1] is out of bounds for [4,5]", tf,
        () -> tf.slice(x, new int[] {0, 6}, new int[] {1, -1}));
  }

  @Test
  @Covers("Pad")
  void padAddsBeforeAndAfterEachAxis() {
    Ops tf = newOps();
    assertType("f32[4,5]", tf.pad(in(tf, "f32[2,3]"), 1, 1, 0, 2));
    assertType("f32[?,5]", tf.pad(in(tf, "f32[?,3]"), 1, 1, 0, 2));
    assertType("i32[2,3]", tf.pad(in(tf, "i32[2,3]"), 0, 0, 0, 0));
    assertType("f32[?]", tf.pad(in(tf, "f32[*]"), 1, 1));
    assertType("f32[]", tf.pad(in(tf, "f32[]")));
    String node = "Pad 'Pad_5': ";
    Output x = in(tf, "f32[2,3]");
    Output u = in(tf, "f32[*]");
    assertFails(node + "paddings [1, 1] must hold a (before, after) pair for each of the 2 dimensions of [2,3]", tf,
        () -> tf.pad(x, 1, 1));
    assertFails(node + "paddings [1, -1, 0, 0] must be >= 0", tf, () -> tf.pad(x, 1, -1, 0, 0));
    assertFails(node + "paddings [1, 1, 1] must hold (before, after) pairs, got 3 values", tf, () -> tf.pad(u, 1, 1, 1));
    assertFails(node + "paddings [-1, 0] must be >= 0", tf, () -> tf.pad(u, -1, 0));
  }

  @Test
  @Covers("OneHot")
  void oneHotAppendsADepthAxis() {
    Ops tf = newOps();
    assertType("f32[?,10]", tf.oneHot(in(tf, "i32[?]"), 10));
    assertType("f64[2,3,4]", tf.oneHot(in(tf, "i64[2,3]"), 4, DType.FLOAT64));
    assertType("i32[5]", tf.oneHot(in(tf, "i32[]"), 5, DType.INT32));
    assertType("f32[*]", tf.oneHot(in(tf, "i64[*]"), 3));
    String node = "OneHot 'OneHot_4': ";
    Output f = in(tf, "f32[2]");
    Output i = in(tf, "i32[2]");
    assertFails(node + "input 0 must be integer (i32, i64, i8, u8, i16), got f32", tf, () -> tf.oneHot(f, 3));
    assertFails(node + "attribute 'depth' must be in 1..2147483647, got 0", tf, () -> tf.oneHot(i, 0));
    assertFails(node + "attribute 'depth' must be in 1..2147483647, got 4294967296", tf,
        () -> tf.opBuilder("OneHot").addInput(i).setAttr("depth", 1L << 32).setAttr("dtype", DType.FLOAT32)
            .setAttr("on_value", 1.0).setAttr("off_value", 0.0).build());
    assertFails(node + "attribute 'dtype' must be one of f32, f64, i32, i64, got bool", tf, () -> tf.oneHot(i, 3, DType.BOOL));
    assertFails(node + "missing attribute 'on_value' (a float)", tf, () -> tf.opBuilder("OneHot").addInput(i)
        .setAttr("depth", 3).setAttr("dtype", DType.FLOAT32).setAttr("off_value", 0.0).build());
    assertFails(node + "attribute 'off_value' must be a float, got an int: 0", tf, () -> tf.opBuilder("OneHot").addInput(i)
        .setAttr("depth", 3).setAttr("dtype", DType.FLOAT32).setAttr("on_value", 1.0).setAttr("off_value", 0).build());
  }
}
