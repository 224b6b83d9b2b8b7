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

  /** n, d_in, h, d_out = 64, 1000, 100, 10 with a fixed batch: every node's type, by name. */
  @Test
  void everyNodeOfTheFixedBatchNetworkHasItsType() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(64, 1000));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(64, 10));
    Variable w1 = tf.variable("w1", tf.randomNormal(Shape.of(1000, 100), 1L));
    Variable w2 = tf.variable("w2", tf.randomNormal(Shape.of(100, 10), 2L));
    Output h = tf.withName("h").matmul(x, w1);
    Output hRelu = tf.withName("h_relu").maximum(h, tf.constant(0f));
    Output yPred = tf.withName("y_pred").matmul(hRelu, w2);
    Output loss = tf.withName("loss").reduceSum(tf.square(tf.sub(yPred, y)));
    Output step = tf.assign(w1, tf.sub(w1, tf.mul(tf.constant(1e-6f), w1)));
    tf.globalVariablesInitializer();

    java.util.Map<String, String> expected = new java.util.LinkedHashMap<>();
    expected.put("x", "Placeholder [f32[64,1000]]");
    expected.put("y", "Placeholder [f32[64,10]]");
    expected.put("RandomNormal", "RandomNormal [f32[1000,100]]");
    expected.put("w1", "Variable [f32[1000,100]]");
    expected.put("w1/Assign", "Assign [f32[1000,100]]");
    expected.put("RandomNormal_1", "RandomNormal [f32[100,10]]");
    expected.put("w2", "Variable [f32[100,10]]");
    expected.put("w2/Assign", "Assign [f32[100,10]]");
    expected.put("h", "MatMul [f32[64,100]]");
    expected.put("Const", "Const [f32[]]");
    expected.put("h_relu", "Maximum [f32[64,100]]");
    expected.put("y_pred", "MatMul [f32[64,10]]");
    expected.put("Sub", "Sub [f32[64,10]]");
    expected.put("Square", "Square [f32[64,10]]");
    expected.put("loss", "Sum [f32[]]");
    expected.put("Const_1", "Const [f32[]]");
    expected.put("Mul", "Mul [f32[1000,100]]");
    expected.put("Sub_1", "Sub [f32[1000,100]]");
    expected.put("Assign", "Assign [f32[1000,100]]");
    expected.put("init", "NoOp []");
    java.util.Map<String, String> actual = new java.util.LinkedHashMap<>();
    for (Operation op : g.operations()) {
      actual.put(op.name(), op.type() + " " + op.outputTypes());
    }
    assertEquals(expected, actual);
    assertEquals(java.util.List.of(0L, 1L), loss.op().attrs().getLongs("axes"));
    assertEquals(java.util.List.of(w1.initializer(), w2.initializer()), g.operation("init").controlInputs());
    assertEquals(step, g.output("Assign"));
    assertEquals(Shape.of(64, 10), g.output("y_pred").shape());
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
