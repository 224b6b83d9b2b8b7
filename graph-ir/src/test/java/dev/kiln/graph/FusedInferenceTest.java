package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    assertEquals("FusedMatMul 'fm3': activation must be one of none, relu, sigmoid, tanh, got gelu", e.getMessage());
  }
}
