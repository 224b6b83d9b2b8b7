package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Inference and error messages of the array and normalization ops, and their text round trip. */
@ExtendWith(InferenceSupport.class)
class ArrayInferenceTest {
  @Test
  @Covers({"Gather", "GatherNd", "ScatterNd"})
  void gathersAndScatters() {
    Ops tf = newOps();
    Output p = in(tf, "f32[10,3,4]");
    assertType("f32[2,5,3,4]", tf.gather(p, in(tf, "i32[2,5]"), 0));
    assertType("f32[10,7,4]", tf.gather(p, in(tf, "i64[7]"), 1));
    assertType("f32[10,3]", tf.gather(p, in(tf, "i32[]"), -1));
    assertType("f32[10,3,?]", tf.gather(p, in(tf, "i32[?]"), 2));
    assertType("f32[*]", tf.gather(p, in(tf, "i32[*]"), 2));
    assertType("f32[6,4]", tf.gatherNd(p, in(tf, "i32[6,2]")));
    assertType("f32[2,6]", tf.gatherNd(p, in(tf, "i32[2,6,3]")));
    assertType("f64[5,2]", tf.scatterNd(in(tf, "i32[3,1]"), in(tf, "f64[3,2]"), Shape.of(5, 2)));
    Ops s = tf.withName("g");
    Output v1 = in(tf, "f32[2]");
    assertFails("Gather 'g': input 1 must be integer (i32, i64, i8, u8, i16), got f32", tf,
        () -> s.gather(p, v1, 0));
    Output v2 = in(tf, "i32[2]");
    assertFails("Gather 'g': axis 3 out of range for rank 3 input [10,3,4]", tf,
        () -> s.gather(p, v2, 3));
    Output v3 = in(tf, "f32[]");
    Output v4 = in(tf, "i32[2]");
    assertFails("Gather 'g': params must have rank >= 1, got a scalar", tf,
        () -> s.gather(v3, v4, 0));
    Output v5 = tf.constant(Tensor.of(new int[] {3, -2}, 2));
    assertFails("Gather 'g': index -2 (element 1 of indices) is out of range [0, 10) for axis 0 of params [10,3,4]",
        tf, () -> s.gather(p, v5, 0));
    Output v6 = in(tf, "i32[2,4]");
    assertFails("GatherNd 'g': indices [2,4] index 4 dimensions, but params [10,3,4] has rank 3", tf,
        () -> s.gatherNd(p, v6));
    Output v7 = in(tf, "i32[2,?]");
    assertFails("GatherNd 'g': the last dimension of indices [2,?] (the index depth) must be known", tf,
        () -> s.gatherNd(p, v7));
    Output v8 = in(tf, "i32[3,1]");
    Output v9 = in(tf, "f64[3,3]");
    assertFails("ScatterNd 'g': updates have shape [3,3], expected [3,2] (indices [3,1] into [5,2])", tf,
        () -> s.scatterNd(v8, v9, Shape.of(5, 2)));
  }

  @Test
  @Covers("BatchMatMul")
  void batchedProductsBroadcastTheirBatch() {
    Ops tf = newOps();
    assertType("f32[8,4,6]", tf.matmul(in(tf, "f32[8,4,5]"), in(tf, "f32[8,5,6]")));
    assertType("f32[2,8,4,6]", tf.matmul(in(tf, "f32[2,1,4,5]"), in(tf, "f32[8,5,6]")));
    assertType("f32[?,4,6]", tf.matmul(in(tf, "f32[?,4,5]"), in(tf, "f32[5,6]")));
    assertType("f32[3,5,4]", tf.matmul(in(tf, "f32[4,5]"), in(tf, "f32[3,4,4]"), true, false));
    assertType("f64[8,4,6]", tf.matmul(in(tf, "f64[8,5,4]"), in(tf, "f64[8,6,5]"), true, true));
    Ops s = tf.withName("b");
    Output v10 = in(tf, "f32[5]");
    Output v11 = in(tf, "f32[2,5,6]");
    assertFails("BatchMatMul 'b': input 0 must have rank >= 2 (a matrix or a batch of matrices), got [5]", tf,
        () -> s.matmul(v10, v11));
    Output v12 = in(tf, "f32[8,4,5]");
    Output v13 = in(tf, "f32[8,6,5]");
    assertFails("BatchMatMul 'b': inner dimensions differ: [8,4,5] x [8,6,5]", tf,
        () -> s.matmul(v12, v13));
  }

  @Test
  @Covers({"Tile", "BroadcastTo", "Cumsum", "TopK", "Range", "ArgMin"})
  void layoutScansAndSelections() {
    Ops tf = newOps();
    assertType("f32[4,9]", tf.tile(in(tf, "f32[2,3]"), 2, 3));
    assertType("f32[?,0]", tf.tile(in(tf, "f32[?,3]"), 2, 0));
    assertType("i32[4,2,3]", tf.broadcastTo(in(tf, "i32[2,1]"), Shape.of(4, 2, 3)));
    assertType("f32[2,3]", tf.cumsum(in(tf, "f32[2,3]"), 1, true, true));
    List<Output> top = tf.topK(in(tf, "f32[5,10]"), 3);
    assertType("f32[5,3]", top.get(0));
    assertType("i32[5,3]", top.get(1));
    assertType("i32[4]", tf.range(4));
    assertType("f32[3]", tf.range(0, 1, 0.4, DType.FLOAT32));
    assertType("i32[0]", tf.range(3, 1, 1, DType.INT32));
    assertType("i64[5]", tf.argMin(in(tf, "f64[5,4]"), 1));
    Ops s = tf.withName("t");
    Output v14 = in(tf, "f32[2,3]");
    assertFails("Tile 't': multiples [2] has 1 entries for rank 2 input [2,3]", tf, () -> s.tile(v14, 2));
    Output v15 = in(tf, "f32[2,3]");
    assertFails("BroadcastTo 't': cannot broadcast [2,3] to [4,2]", tf,
        () -> s.broadcastTo(v15, Shape.of(4, 2)));
    Output v16 = in(tf, "f32[5,10]");
    assertFails("TopK 't': k = 11 is more than the last dimension of [5,10] (10)", tf,
        () -> s.topK(v16, 11));
    assertFails("Range 't': delta must not be 0", tf, () -> s.range(0, 1, 0, DType.INT32));
    Output v17 = in(tf, "f32[2,3]");
    assertFails("Cumsum 't': axis 2 out of range for rank 2 input [2,3]", tf,
        () -> s.cumsum(v17, 2));
  }

  @Test
  @Covers({"BatchNorm", "LayerNorm"})
  void normalizations() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,7,7,16]");
    Output v = in(tf, "f32[16]");
    List<Output> bn = tf.batchNorm(x, v, v, v, v, 1e-3, true);
    assertType("f32[?,7,7,16]", bn.get(0));
    assertType("f32[16]", bn.get(1));
    assertType("f32[16]", bn.get(2));
    assertType("f32[?,7,7,16]", tf.layerNorm(x, v, v, 1e-5));
    Ops s = tf.withName("n");
    Output v18 = in(tf, "f32[1,16]");
    assertFails("BatchNorm 'n': variance (input 4) must be a vector of the 16 channels of input 0, got [1,16]", tf,
        () -> s.batchNorm(x, v, v, v, v18, 1e-3, true));
    Output v19 = in(tf, "i32[2,3]");
    Output v20 = in(tf, "i32[3]");
    Output v21 = in(tf, "i32[3]");
    assertFails("LayerNorm 'n': input 0 must be float (f32, f64, f16, bf16), got i32", tf,
        () -> s.layerNorm(v19, v20, v21, 1e-5));
  }

  @Test
  void theNewOpsRoundTripThroughText() {
    Ops tf = newOps();
    Output p = in(tf, "f32[10,4]");
    Output i = in(tf, "i32[3]");
    Output g = tf.gather(p, i, 0);
    List<Output> top = tf.topK(g, 2);
    Output bmm = tf.matmul(tf.reshape(g, 1, 3, 4), in(tf, "f32[2,4,5]"), false, false);
    Output v = in(tf, "f32[4]");
    List<Output> bn = tf.batchNorm(g, v, v, v, v, 1e-3, false);
    tf.add(tf.cumsum(bn.get(0), 0, true, false), g);
    tf.tile(tf.broadcastTo(top.get(1), Shape.of(2, 3, 2)), 1, 2, 1);
    tf.layerNorm(bmm, in(tf, "f32[5]"), in(tf, "f32[5]"), 1e-5);
    tf.scatterNd(tf.expandDims(i, 1), g, Shape.of(10, 4));
    tf.argMin(tf.range(0, 6, 1.5, DType.FLOAT64), 0);
    Graph graph = tf.graph();
    String text = graph.toText();
    Graph back = Graph.parse(text);
    GraphAssert.assertSameGraph(graph, back);
    assertEquals(text, back.toText());
  }
}
