package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Layers as graph builders: shapes, variable names and scopes, errors. Values are in LayerValueTest. */
class LayerGraphTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));

  @Test
  void sequentialMlpShapesAndVariableNames() {
    Sequential model = Sequential.of(new Linear(784, 128), new ReLU(), new Linear(128, 10));
    assertEquals(List.of(), model.trainableVariables());
    Output logits = model.apply(tf, x);
    assertEquals(Shape.of(-1, 10), logits.shape());
    assertEquals(DType.FLOAT32, logits.dtype());
    List<Variable> vars = model.trainableVariables();
    assertEquals(List.of("linear/weight", "linear/bias", "linear_1/weight", "linear_1/bias"),
        vars.stream().map(Output::name).toList());
    assertEquals(List.of(Shape.of(784, 128), Shape.of(128), Shape.of(128, 10), Shape.of(10)),
        vars.stream().map(Output::shape).toList());
    assertEquals(vars, g.variables());
    assertTrue(g.findOperation("relu/Relu").isPresent());
    assertTrue(g.findOperation("linear/MatMul").isPresent());
  }

  @Test
  void reapplyingALayerSharesItsVariables() {
    Linear shared = new Linear(784, 10);
    Output a = shared.apply(tf, x);
    Output b = shared.apply(tf, tf.placeholder("x2", DType.FLOAT32, Shape.of(5, 784)));
    assertEquals(Shape.of(5, 10), b.shape());
    assertEquals(2, g.variables().size());
    assertSame(a.graph(), b.graph());
    assertEquals("linear/weight", shared.weight().orElseThrow().name());
  }

  @Test
  void layerScopesAreUniqueUnderAnEnclosingScope() {
    Ops model = tf.withSubScope("model");
    new Linear(784, 4).apply(model, x);
    new Linear(784, 4).apply(model, x);
    assertEquals(List.of("model/linear/weight", "model/linear/bias", "model/linear_1/weight", "model/linear_1/bias"),
        g.variables().stream().map(Output::name).toList());
  }

  @Test
  void withoutBiasAndNamed() {
    Linear l = new Linear(784, 3).withoutBias().named("dense").withInitializer(Initializer.HE_NORMAL).withSeed(3);
    Output y = l.apply(tf, x);
    assertEquals(Shape.of(-1, 3), y.shape());
    assertEquals(List.of("dense/weight"), l.trainableVariables().stream().map(Output::name).toList());
  }

  @Test
  void linearRejectsWrongInput() {
    Linear l = new Linear(100, 10);
    var e = assertThrows(IllegalArgumentException.class, () -> l.apply(tf, x));
    assertEquals("Linear 'linear': input 'x' must have shape [?,100], got [?,784]", e.getMessage());
    Output ints = tf.placeholder("i", DType.INT32, Shape.of(2, 100));
    var d = assertThrows(IllegalArgumentException.class, () -> l.apply(tf, ints));
    assertEquals("Linear 'linear': input 'i' must be f32 or f64, got i32", d.getMessage());
    assertEquals(0, g.variables().size());
    assertEquals("Linear: feature counts must be > 0, got 0 -> 3",
        assertThrows(IllegalArgumentException.class, () -> new Linear(0, 3)).getMessage());
  }

  @Test
  void linearRejectsAnotherGraph() {
    Linear l = new Linear(784, 2);
    l.apply(tf, x);
    Ops other = Ops.create(new Graph());
    Output x2 = other.placeholder("x", DType.FLOAT32, Shape.of(1, 784));
    var e = assertThrows(IllegalArgumentException.class, () -> l.apply(other, x2));
    assertEquals("Linear 'linear': was built in another graph; a layer's variables belong to one graph",
        e.getMessage());
  }

  @Test
  void activationsKeepShapeAndUseTheirAxis() {
    Output r = new ReLU().apply(tf, x);
    Output s = new Sigmoid().apply(tf, x);
    Output t = new Tanh().apply(tf, x);
    Output sm = new Softmax(0).apply(tf, x);
    Output lsm = new LogSoftmax().apply(tf, x);
    for (Output o : List.of(r, s, t, sm, lsm)) {
      assertEquals(x.type(), o.type());
    }
    assertEquals(List.of("Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"),
        List.of(r, s, t, sm, lsm).stream().map(o -> o.op().type()).toList());
    assertEquals(List.of("relu/Relu", "sigmoid/Sigmoid", "tanh/Tanh", "softmax/Softmax", "log_softmax/LogSoftmax"),
        List.of(r, s, t, sm, lsm).stream().map(Output::name).toList());
    assertEquals(0L, sm.op().attrs().getLong("axis"));
    assertEquals(-1L, lsm.op().attrs().getLong("axis"));
    assertEquals("relu_1/Relu", new ReLU().apply(tf, x).name());
  }

  @Test
  void dropoutNeedsAFixedShapeAndABoolFlag() {
    Output training = Dropout.trainingFlag(tf, "training");
    var e = assertThrows(IllegalArgumentException.class, () -> new Dropout(0.5, training).apply(tf, x));
    assertEquals("Dropout: input 'x' has shape [?,784]; the random mask needs a fully defined shape"
        + " (give the placeholder a fixed batch size)", e.getMessage());
    Output fixed = tf.placeholder("xf", DType.FLOAT32, Shape.of(8, 4));
    Output y = new Dropout(0.5, training).apply(tf, fixed);
    assertEquals(fixed.type(), y.type());
    assertEquals("Dropout: rate must be in [0, 1), got 1.0",
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, training)).getMessage());
    assertEquals("Dropout: training flag 'xf' must be a bool scalar, got f32[8,4]",
        assertThrows(IllegalArgumentException.class, () -> new Dropout(0.1, fixed)).getMessage());
  }

  @Test
  void sequentialNeedsLayers() {
    assertEquals("Sequential: needs at least one layer",
        assertThrows(IllegalArgumentException.class, Sequential::of).getMessage());
  }

  @Test
  void lossShapesAndErrors() {
    Output logits = new Linear(784, 10).apply(tf, x);
    Output labels = tf.placeholder("y", DType.INT32, Shape.of(-1));
    assertEquals(Shape.scalar(), Losses.sparseSoftmaxCrossEntropy(tf, logits, labels, Reduction.MEAN).shape());
    assertEquals(Shape.of(-1), Losses.sparseSoftmaxCrossEntropy(tf, logits, labels, Reduction.NONE).shape());
    Output oneHot = tf.placeholder("y1", DType.FLOAT32, Shape.of(-1, 10));
    assertEquals(Shape.scalar(), Losses.softmaxCrossEntropy(tf, logits, oneHot, Reduction.SUM).shape());
    assertEquals(Shape.of(-1, 10), Losses.meanSquaredError(tf, logits, oneHot, Reduction.NONE).shape());
    Output floatLabels = tf.placeholder("yf", DType.FLOAT32, Shape.of(-1));
    var e = assertThrows(IllegalArgumentException.class,
        () -> Losses.sparseSoftmaxCrossEntropy(tf, logits, floatLabels, Reduction.MEAN));
    assertEquals("sparseSoftmaxCrossEntropy: labels 'yf' must be i32 or i64 of shape [?], got f32[?]", e.getMessage());
    Output wrong = tf.placeholder("y5", DType.FLOAT32, Shape.of(-1, 5));
    var m = assertThrows(IllegalArgumentException.class,
        () -> Losses.meanSquaredError(tf, logits, wrong, Reduction.MEAN));
    assertEquals("meanSquaredError: 'y5' is f32[?,5] but 'linear/Add' is f32[?,10]; they must have the same dtype"
        + " and shape", m.getMessage());
  }
}
