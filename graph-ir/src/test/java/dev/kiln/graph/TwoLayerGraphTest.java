package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TwoLayerGraphTest {
  @Test
  void classicTwoLayerNetworkInfersEveryShape() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 1000));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 10));
    Variable w1 = tf.variable("w1", tf.randomNormal(Shape.of(1000, 100), 1L));
    Variable w2 = tf.variable("w2", tf.randomNormal(Shape.of(100, 10), 2L));
    Output h = tf.matmul(x, w1);
    Output hRelu = tf.maximum(h, tf.constant(0f));
    Output yPred = tf.matmul(hRelu, w2);
    Output loss = tf.reduceSum(tf.square(tf.sub(y, yPred)));
    Operation init = tf.globalVariablesInitializer();

    assertEquals(Shape.of(-1, 1000), x.shape());
    assertEquals(Shape.of(1000, 100), w1.shape());
    assertEquals(Shape.of(-1, 100), h.shape());
    assertEquals(Shape.of(-1, 100), hRelu.shape());
    assertEquals(Shape.of(-1, 10), yPred.shape());
    assertEquals(Shape.scalar(), loss.shape());
    assertEquals(DType.FLOAT32, loss.dtype());
    assertEquals("w1", w1.name());
    assertEquals("w1/Assign", w1.initializer().name());
    assertEquals(2, init.controlInputs().size());
    assertEquals(java.util.List.of(w1, w2), g.variables());
  }

  @Test
  void matmulMismatchNamesOpNodeAndShapes() {
    Graph g = new Graph();
    Ops tf = Ops.create(g).withSubScope("dense");
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(64, 1000));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(100, 10));
    int before = g.size();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.matmul(a, b));
    assertEquals("MatMul 'dense/MatMul': inner dimensions differ: [64,1000] x [100,10]", e.getMessage());
    assertEquals(before, g.size());
  }

  @Test
  void duplicateVariableNameLeavesNothingBehind() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    tf.variable("w", tf.constant(1f));
    int before = g.size();
    Output init = tf.constant(2f);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.variable("w", init));
    assertEquals("Variable 'w': name already used by Variable 'w'", e.getMessage());
    assertEquals(before + 1, g.size());
  }
}
