package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Graph-only behaviour of {@link Ops#gradients}: what nodes it builds, and its errors. */
class GradientsGraphTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  @Test
  void twoLayerGradientsHaveTheWeightsShapesAndLiveUnderGradientsScope() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 1000));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 10));
    Variable w1 = tf.variable("w1", tf.randomNormal(Shape.of(1000, 100), 1L));
    Variable w2 = tf.variable("w2", tf.randomNormal(Shape.of(100, 10), 2L));
    Output hRelu = tf.maximum(tf.matmul(x, w1), tf.constant(0f));
    Output loss = tf.reduceSum(tf.pow(tf.sub(y, tf.matmul(hRelu, w2)), tf.constant(2f)));
    int before = g.size();
    List<Output> grads = tf.gradients(loss, w1, w2);
    assertEquals(TensorType.class, grads.get(0).type().getClass());
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(1000, 100)), grads.get(0).type());
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(100, 10)), grads.get(1).type());
    for (Operation op : g.operations().subList(before, g.size())) {
      assertTrue(op.name().startsWith("gradients/"), op.name());
    }
    // dW2 = hRelu^T . dYpred is a MatMul transposing its first operand.
    Operation dw2 = grads.get(1).op();
    assertEquals("MatMul", dw2.type());
    assertSame(hRelu, dw2.input(0));
    assertEquals(true, dw2.attrs().getBool("transpose_a"));
  }

  @Test
  void xThatYDoesNotDependOnGetsZerosOfItsShape() {
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3));
    Output z = tf.placeholder("z", DType.FLOAT64, Shape.of(2, 5));
    Output y = tf.reduceSum(tf.square(x));
    Output dz = tf.gradients(y, z).get(0);
    assertEquals("ZerosLike", dz.op().type());
    assertSame(z, dz.op().input(0));
    assertEquals(new TensorType(DType.FLOAT64, Shape.of(2, 5)), dz.type());
  }

  @Test
  void onlyThroughStopGradientIsUnconnected() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.reduceSum(tf.exp(tf.stopGradient(x)));
    assertEquals("ZerosLike", tf.gradients(y, x).get(0).op().type());
  }

  @Test
  void valueUsedTwiceHasItsGradientsSummed() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    Output y = tf.reduceSum(tf.add(tf.sin(x), tf.cos(x)));
    Output dx = tf.gradients(y, x).get(0);
    assertEquals("AddN", dx.op().type());
    assertEquals(2, dx.op().numInputs());
  }

  @Test
  void gradientOfYWithRespectToItselfIsTheSeed() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 2));
    Output dx = tf.gradients(x, x).get(0);
    assertEquals("OnesLike", dx.op().type());
    Output seed = tf.placeholder("seed", DType.FLOAT32, Shape.of(2, 2));
    assertSame(seed, tf.gradients(List.of(x), List.of(x), List.of(seed)).get(0));
  }

  @Test
  void integerEdgesCarryNoGradient() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output viaInt = tf.cast(tf.cast(x, DType.INT32), DType.FLOAT32);
    Output y = tf.reduceSum(tf.add(viaInt, tf.select(tf.greater(x, tf.constant(0f)), x, x)));
    Output dx = tf.gradients(y, x).get(0);
    // Only Select's two value branches contribute; the cast round trip through i32 does not.
    assertEquals("AddN", dx.op().type());
    assertEquals(2, dx.op().numInputs());
  }

  @Test
  void nonFloatXIsRejected() {
    Output i = tf.placeholder("i", DType.INT32, Shape.of(3));
    Output y = tf.reduceSum(tf.cast(i, DType.FLOAT32));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, i));
    assertEquals("gradients: cannot differentiate with respect to x 'i' of dtype i32; only float (f32, f64, f16, bf16)"
        + " values have gradients", e.getMessage());
  }

  @Test
  void nonFloatYIsRejected() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.argMax(x, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, x));
    assertEquals("gradients: y 'ArgMax' has dtype i64; only float (f32, f64, f16, bf16) values can be differentiated",
        e.getMessage());
  }

  @Test
  void yOfAnotherGraphIsRejected() {
    Ops other = Ops.create(new Graph());
    Output y = other.reduceSum(other.placeholder("loss_input", DType.FLOAT32, Shape.of(3)));
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, x));
    assertEquals("gradients: y 'Sum' belongs to another graph", e.getMessage());
  }

  @Test
  void opWithoutGradientIsNamedAndNothingIsLeftBehind() {
    Variable w = tf.variable("w", tf.constant(new float[] {1, 2}));
    Output updated = tf.withName("update").assign(w, tf.mul(w, tf.constant(2f)));
    Output y = tf.reduceSum(updated);
    int before = g.size();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, w));
    assertEquals("gradients: no gradient registered for op type 'Assign' (node 'update'), which lies between"
        + " the xs and the ys; register one with OpRegistry.registerGradient", e.getMessage());
    assertEquals(before, g.size());
  }

  @Test
  void gradYsMustMatchYs() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.square(x);
    Output wrong = tf.placeholder("gy", DType.FLOAT32, Shape.of(4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.gradients(List.of(y), List.of(x), List.of(wrong)));
    assertEquals("gradients: gradY 0 'gy' is f32[4] but y 'Square' is f32[3]", e.getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> tf.gradients(List.of(y), List.of(x), List.of(wrong, wrong)));
    assertEquals("gradients: 1 ys but 2 gradYs (give one per y, or none)", e2.getMessage());
  }

  @Test
  void registeringAGradientTwiceOrForAnUnknownTypeFails() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> OpRegistry.registerGradient("MatMul", GradientFunction.NONE));
    assertEquals("op type 'MatMul' already has a registered gradient", e.getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> OpRegistry.registerGradient("NoSuchOp", GradientFunction.NONE));
    assertEquals("unknown op type 'NoSuchOp'", e2.getMessage());
  }

  @Test
  void customGradientSkipsTheForwardNodes() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.customGradient(List.of(x), in -> List.of(tf.exp(in.get(0))),
        (t, in, out, dOut) -> List.of(t.mul(dOut.get(0), t.constant(7f)))).get(0);
    assertEquals("CustomGradient", y.op().type());
    assertEquals(x.type(), y.type());
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);
    // The hand-written backward (a Mul by 7) is used, not Exp's gradient.
    assertEquals("Mul", dx.op().type());
    assertTrue(g.operations().stream().noneMatch(op -> op.name().contains("Exp_grad")));
  }

  @Test
  void customGradientBackwardMustGiveOneGradientPerInput() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.customGradient(List.of(x), in -> List.of(tf.exp(in.get(0))),
        (t, in, out, dOut) -> List.of()).get(0);
    Output loss = tf.reduceSum(y);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(loss, x));
    assertEquals("customGradient: the backward function of CustomGradient 'custom_gradient/CustomGradient'"
        + " returned 0 gradients for 1 inputs", e.getMessage());
  }

  @Test
  void userOpGradientFromItsOpDef() {
    OpRegistry.register(new OpDef() {
      public String type() {
        return "GraphTestTwice";
      }

      public int minInputs() {
        return 1;
      }

      public int maxInputs() {
        return 1;
      }

      public List<TensorType> infer(OpContext c) {
        return List.of(c.input(0));
      }

      public java.util.Optional<GradientFunction> gradient() {
        return java.util.Optional.of((t, op, gs) -> List.of(gs.get(0).map(d -> t.mul(d, t.constant(2f)))));
      }
    });
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    Output y = tf.opBuilder("GraphTestTwice").addInput(x).build().output(0);
    Output dx = tf.gradients(tf.reduceSum(y), x).get(0);
    assertEquals("Mul", dx.op().type());
  }

  @Test
  void customGradientMarkerIsAViewOfItsFirstInput() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
    Output n = tf.placeholder("n", DType.INT32, Shape.of(2));
    Output y = tf.customGradient(List.of(x, n), in -> List.of(tf.square(in.get(0)), tf.neg(in.get(1))),
        (t, in, out, d) -> List.of(d.get(0), t.zerosLike(in.get(1)))).get(1);
    assertEquals(new TensorType(DType.INT32, Shape.of(2)), y.type());
    assertEquals(List.of("Neg", "x", "n"), y.op().inputs().stream().map(Output::name).toList());
    assertEquals(1L, y.op().attrs().getLong("output_index"));
    assertTrue(y.op().def().traits().contains(OpTrait.VIEW));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("bad").opBuilder("CustomGradient").addInput(x).build());
    assertEquals("CustomGradient 'bad': missing attribute 'output_index' (an int)", e.getMessage());
  }

  @Test
  void customGradientDoesNotSurviveTheTextFormat() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    tf.withSubScope("act").customGradient(List.of(x), in -> List.of(tf.exp(in.get(0))),
        (t, in, out, d) -> List.of(d.get(0)));
    Graph reread = Graph.parse(g.toText());
    Ops tf2 = Ops.create(reread);
    Output y = tf2.reduceSum(reread.output("act/custom_gradient/CustomGradient"));
    Output x2 = reread.output("x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf2.gradients(y, x2));
    assertEquals("gradients: CustomGradient 'act/custom_gradient/CustomGradient' has no backward function in this"
        + " graph (custom gradients are not saved with a graph)", e.getMessage());
  }
}
