package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(InferenceSupport.class)
class FusedInferenceTest {
  /** Body: r0 = p0 * p1 + 1 (depends on both), r1 = exp(p1) (depends on p1 only). */
  private static Subgraph body(DType d) {
    Graph b = new Graph();
    Ops tf = Ops.create(b);
    Output p0 = b.opBuilder("Parameter", "p0").setAttr("dtype", d).setAttr("shape", Shape.unknown()).build().output(0);
    Output p1 = b.opBuilder("Parameter", "p1").setAttr("dtype", d).setAttr("shape", Shape.unknown()).build().output(0);
    Output r0 = tf.add(tf.mul(p0, p1), tf.constant(1.0, d));
    Output r1 = tf.exp(p1);
    return new Subgraph(b, List.of(p0, p1), List.of(r0, r1));
  }

  @Test
  @Covers("Fused")
  void fusedOutputsBroadcastTheInputsTheyDependOn() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 10));
    Output bias = tf.placeholder("b", DType.FLOAT32, Shape.of(10));
    Operation f = g.opBuilder("Fused", "f").addInput(x).addInput(bias).addSubgraph(body(DType.FLOAT32)).build();
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(-1, 10)), f.outputType(0));
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(10)), f.outputType(1));
  }

  @Test
  void fusedRejectsMismatchedParametersAndMissingBody() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    int before = g.size();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Fused", "f").addInput(x).addInput(x).addSubgraph(body(DType.FLOAT32)).build());
    assertEquals("Fused 'f': parameter 0 is f32 but input 0 is f64", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.opBuilder("Fused", "f").addInput(x).build());
    assertEquals("Fused 'f': expects exactly one body subgraph, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Fused", "f").addInput(x).addSubgraph(body(DType.FLOAT64)).build());
    assertEquals("Fused 'f': body has 2 parameters for 1 inputs", e.getMessage());
    assertEquals(before, g.size());
  }

  /** Body: y = exp(p0) * p0, then sum(y) over {@code axes} (keep_dims {@code keep}); results (y, sum). */
  private static Subgraph reducingBody(String reduction, List<Long> axes, boolean keep) {
    Graph b = new Graph();
    Ops tf = Ops.create(b);
    Output p0 = b.opBuilder("Parameter", "p0").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.unknown()).build().output(0);
    Output y = tf.mul(tf.exp(p0), p0);
    Output r = b.opBuilder(reduction, "r").addInput(y).setAttr("axes", axes).setAttr("keep_dims", keep).build().output(0);
    return new Subgraph(b, List.of(p0), List.of(y, r));
  }

  @Test
  void aFusedBodyMayEndInAReduction() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 10));
    Operation all = g.opBuilder("Fused", "all").addInput(x).addSubgraph(reducingBody("Sum", List.of(0L, 1L), false)).build();
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(-1, 10)), all.outputType(0));
    assertEquals(new TensorType(DType.FLOAT32, Shape.scalar()), all.outputType(1));
    Operation rows = g.opBuilder("Fused", "rows").addInput(x).addSubgraph(reducingBody("Mean", List.of(-1L), true)).build();
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(-1, 1)), rows.outputType(1));
    Operation first = g.opBuilder("Fused", "first").addInput(x).addSubgraph(reducingBody("Max", List.of(0L), false)).build();
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(10)), first.outputType(1));
  }

  @Test
  void aFusedReductionMustEndItsChain() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    Graph b = new Graph();
    Ops bt = Ops.create(b);
    Output p0 = b.opBuilder("Parameter", "p0").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.of(4)).build().output(0);
    Output s = b.opBuilder("Sum", "s").addInput(p0).setAttr("axes", List.of(0L)).setAttr("keep_dims", false).build().output(0);
    Output y = bt.withName("y").mul(p0, s);
    Subgraph body = new Subgraph(b, List.of(p0), List.of(y));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Fused", "f").addInput(x).addSubgraph(body).build());
    assertEquals("Fused 'f': body node Mul 'y' reads the reduction 's': a reduction must end its chain",
        e.getMessage());
  }

  @Test
  @Covers("FusedMatMul")
  void fusedMatMulIsMatMulWithBiasAndActivation() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(-1, 784));
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(784, 256));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(256));
    Operation f = g.opBuilder("FusedMatMul", "fm").addInput(a).addInput(w).addInput(b)
        .setAttr("activation", "relu").setAttr("transpose_a", false).setAttr("transpose_b", false).build();
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(-1, 256)), f.outputType(0));

    Output bad = tf.placeholder("bad", DType.FLOAT32, Shape.of(100));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("FusedMatMul", "fm2").addInput(a).addInput(w).addInput(bad).build());
    assertEquals("FusedMatMul 'fm2': bias [100] does not broadcast to the product [?,256]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("FusedMatMul", "fm3").addInput(a).addInput(w).setAttr("activation", "gelu").build());
    assertEquals("FusedMatMul 'fm3': attribute 'activation' must be one of \"none\", \"relu\", \"sigmoid\", \"tanh\", got \"gelu\"", e.getMessage());
  }

  @Test
  @Covers("Gemm")
  void gemmHasTheShapeOfItsProductAndOfC() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 1000));
    Output d = tf.placeholder("d", DType.FLOAT32, Shape.of(-1, 100));
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(1000, 100));
    Operation f = g.opBuilder("Gemm", "update").addInput(x).addInput(d).addInput(w).setAttr("transpose_a", true)
        .setAttr("alpha", -0.5).setAttr("beta", 1.0).build();
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(1000, 100)), f.outputType(0));
    // c may know what the product does not (and the other way round): the output knows both.
    Output c = tf.placeholder("c", DType.FLOAT32, Shape.of(-1, 7));
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(5, 3));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(3, -1));
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(5, 7)),
        g.opBuilder("Gemm", "g2").addInput(a).addInput(b).addInput(c).build().outputType(0));
  }

  @Test
  void gemmRejectsBroadcastingOtherDtypesIntegersAndBadScales() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(4, 3));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(3, 2));
    Output row = tf.placeholder("row", DType.FLOAT32, Shape.of(1, 2));
    Output c64 = tf.placeholder("c64", DType.FLOAT64, Shape.of(4, 2));
    Output i = tf.placeholder("i", DType.INT32, Shape.of(2, 2));
    Output c = tf.placeholder("c", DType.FLOAT32, Shape.of(4, 2));
    int before = g.size();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Gemm", "g").addInput(a).addInput(b).addInput(row).build());
    assertEquals("Gemm 'g': c [1,2] does not have the product's shape [4,2]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.opBuilder("Gemm", "g").addInput(a).addInput(b).addInput(c64).build());
    assertEquals("Gemm 'g': dtypes differ: f32 vs f64", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.opBuilder("Gemm", "g").addInput(i).addInput(i).addInput(i).build());
    assertEquals("Gemm 'g': inputs must be float (f32, f64, f16, bf16), got i32", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Gemm", "g").addInput(a).addInput(b).addInput(c).setAttr("alpha", 2L).build());
    assertEquals("Gemm 'g': attribute 'alpha' must be a float, got an int: 2", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Gemm", "g").addInput(a).addInput(b).addInput(c).setAttr("beta", Double.NaN).build());
    assertEquals("Gemm 'g': attribute 'beta' must be a finite number, got nan", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> g.opBuilder("Gemm", "g").addInput(a).addInput(a).addInput(c).build());
    assertEquals("Gemm 'g': inner dimensions differ: [4,3] x [4,3]", e.getMessage());
    assertEquals(before, g.size());
  }

  @Test
  void gemmPrintsAndParsesItsScalesExactly() {
    Ops tf = InferenceSupport.newOps();
    Graph g = tf.graph();
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(4, 3));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(2, 3));
    Output c = tf.placeholder("c", DType.FLOAT32, Shape.of(4, 2));
    double alpha = -(double) 1e-6f;
    g.opBuilder("Gemm", "update").addInput(a).addInput(b).addInput(c).setAttr("transpose_a", false)
        .setAttr("transpose_b", true).setAttr("alpha", alpha).setAttr("beta", 1.0).build();
    String text = g.toText();
    assertTrue(text.contains("%update = Gemm(%a, %b, %c) {alpha = " + alpha + ", beta = 1.0, transpose_a = false, "
        + "transpose_b = true} : f32[4,2]"), text);
    Graph parsed = Graph.parse(text);
    assertEquals(alpha, parsed.operation("update").attrs().getDouble("alpha"));
    assertEquals(text, parsed.toText());
  }
}
