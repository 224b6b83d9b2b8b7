package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertFails;
import static dev.kiln.graph.InferenceSupport.assertType;
import static dev.kiln.graph.InferenceSupport.in;
import static dev.kiln.graph.InferenceSupport.newOps;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Convolutions, pooling and BiasAdd: TensorFlow's output sizes, and errors naming node, attribute and shapes. */
@ExtendWith(InferenceSupport.class)
class ConvInferenceTest {
  private static final int[] ONE = {1, 1};

  @Test
  @Covers("Conv2D")
  void conv2dOutputSizesFollowTensorFlowsPadding() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,28,28,1]");
    assertType("f32[?,28,28,32]", tf.conv2d(x, in(tf, "f32[5,5,1,32]"), ONE, "SAME"));
    assertType("f32[?,24,24,32]", tf.conv2d(x, in(tf, "f32[5,5,1,32]"), ONE, "VALID"));
    // SAME: ceil(28/3) = 10; VALID: (28-5)/3 + 1 = 8; strides as 4 NHWC entries.
    assertType("f32[?,10,10,8]", tf.conv2d(x, in(tf, "f32[5,5,1,8]"), new int[] {1, 3, 3, 1}, "SAME"));
    // Explicit paddings widen the input: (28+1+1-5)/3 + 1 = 9 columns; dilation 2 makes a 3x3 window 5x5.
    assertType("f32[?,8,9,8]", tf.conv2d(x, in(tf, "f32[5,5,1,8]"), new int[] {3, 3}, "EXPLICIT", ONE,
        new int[] {0, 0, 1, 1}, "NHWC"));
    assertType("f32[2,6,6,4]", tf.conv2d(in(tf, "f32[2,10,10,3]"), in(tf, "f32[3,3,3,4]"), ONE, "VALID",
        new int[] {2, 2}, new int[0], "NHWC"));
    assertType("f32[2,13,10,4]", tf.conv2d(in(tf, "f32[2,10,10,3]"), in(tf, "f32[3,3,3,4]"), ONE, "EXPLICIT", ONE,
        new int[] {1, 4, 0, 2}, "NHWC"));
    // NCHW: channels second; grouped: input depth 8 over filter depth 2 = 4 groups.
    assertType("f64[4,16,14,14]", tf.conv2d(in(tf, "f64[4,3,28,28]"), in(tf, "f64[3,3,3,16]"), new int[] {1, 1, 2, 2},
        "SAME", ONE, new int[0], "NCHW"));
    assertType("f32[1,5,5,12]", tf.conv2d(in(tf, "f32[1,5,5,8]"), in(tf, "f32[3,3,2,12]"), ONE, "SAME"));
    assertType("f32[?,?,?,12]", tf.conv2d(in(tf, "f32[*]"), in(tf, "f32[3,3,2,12]"), ONE, "SAME"));
  }

  @Test
  void conv2dFailuresNameTheNodeAttributeAndShapes() {
    Ops tf = newOps().withSubScope("net");
    Output x = in(tf, "f32[?,28,28,3]");
    Output f = in(tf, "f32[5,5,3,8]");
    String node = "Conv2D 'net/Conv2D': ";
    Output v1 = in(tf, "f32[28,28,3]");
    assertFails(node + "input [N,H,W,C] (input 0) must be rank 4, got [28,28,3]", tf,
        () -> tf.conv2d(v1, f, ONE, "SAME"));
    Output v2 = in(tf, "f32[5,5,3]");
    assertFails(node + "filter [kh,kw,in,out] (input 1) must be rank 4, got [5,5,3]", tf,
        () -> tf.conv2d(x, v2, ONE, "SAME"));
    Output v3 = in(tf, "f32[5,5,2,8]");
    assertFails(node + "input depth 3 is not a multiple of the filter's input depth 2 (filter [5,5,2,8], groups = input"
        + " depth / filter input depth) (input [?,28,28,3], filter [5,5,2,8])", tf,
        () -> tf.conv2d(x, v3, ONE, "SAME"));
    assertFails(node + "attribute 'padding' must be one of \"SAME\", \"VALID\", \"EXPLICIT\", got \"same\"", tf,
        () -> tf.conv2d(x, f, ONE, "same"));
    assertFails(node + "attribute 'strides' [1, 2, 2, 2] must be 1 in the batch and channel entries (NHWC order)"
        + " (input [?,28,28,3], filter [5,5,3,8])", tf, () -> tf.conv2d(x, f, new int[] {1, 2, 2, 2}, "SAME"));
    assertFails(node + "attribute 'strides' [2] must have 2 entries (height, width) or 4 (NHWC order), got 1"
        + " (input [?,28,28,3], filter [5,5,3,8])", tf, () -> tf.conv2d(x, f, new int[] {2}, "SAME"));
    Output v4 = in(tf, "f32[1,4,9,3]");
    assertFails(node + "VALID window of height 5 is larger than the input's height 4 (input [1,4,9,3], filter [5,5,3,8])",
        tf, () -> tf.conv2d(v4, f, ONE, "VALID"));
    assertFails(node + "explicit_paddings [1, 1] must have 4 entries (top, bottom, left, right) or 8 (a pair per"
        + " dimension), got 2 (input [?,28,28,3], filter [5,5,3,8])", tf,
        () -> tf.conv2d(x, f, ONE, "EXPLICIT", ONE, new int[] {1, 1}, "NHWC"));
    assertFails(node + "explicit_paddings [1, 1, 1, 1] given with padding SAME; they need padding EXPLICIT"
        + " (input [?,28,28,3], filter [5,5,3,8])", tf,
        () -> tf.conv2d(x, f, ONE, "SAME", ONE, new int[] {1, 1, 1, 1}, "NHWC"));
    assertFails(node + "attribute 'data_format' must be one of \"NHWC\", \"NCHW\", got \"NWHC\"", tf,
        () -> tf.conv2d(x, f, ONE, "SAME", ONE, new int[0], "NWHC"));
    Output v5 = in(tf, "f64[5,5,3,8]");
    assertFails(node + "dtypes differ: f32 vs f64", tf, () -> tf.conv2d(x, v5, ONE, "SAME"));
    Output v6 = in(tf, "i32[1,5,5,3]");
    Output v7 = in(tf, "i32[5,5,3,8]");
    assertFails(node + "input 0 must be float (f32, f64, f16, bf16), got i32", tf,
        () -> tf.conv2d(v6, v7, ONE, "SAME"));
  }

  @Test
  @Covers({"Conv2DBackpropInput", "Conv2DBackpropFilter"})
  void backpropsHaveTheForwardOperandsShapes() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,28,28,3]");
    Output f = in(tf, "f32[5,5,3,8]");
    Output y = tf.conv2d(x, f, new int[] {2, 2}, "SAME");
    List<Output> g = tf.gradients(y, x, f);
    assertEquals("Conv2DBackpropInput", g.get(0).op().type());
    assertEquals("Conv2DBackpropFilter", g.get(1).op().type());
    assertType("f32[?,28,28,3]", g.get(0));
    assertType("f32[5,5,3,8]", g.get(1));
    Output up = tf.conv2dTranspose(in(tf, "f32[4,14,14,8]"), f, Shape.of(-1, 28, 28, 3), new int[] {2, 2}, "SAME");
    assertType("f32[4,28,28,3]", up);
    String node = "Conv2DBackpropInput 'Conv2DBackpropInput_1': ";
    Output v8 = in(tf, "f32[4,13,14,8]");
    assertFails(node + "out_backprop has shape [4,13,14,8], but the forward output of input [4,28,28,3] is [4,14,14,8]",
        tf, () -> tf.conv2dTranspose(v8, f, Shape.of(-1, 28, 28, 3), new int[] {2, 2}, "SAME"));
    assertFails("Conv2DBackpropFilter 'Conv2DBackpropFilter': attribute 'filter_sizes' must be fully defined, got"
        + " [5,5,?,8]", tf, () -> tf.opBuilder("Conv2DBackpropFilter").addInput(x).addInput(y)
        .setAttr("filter_sizes", Shape.of(5, 5, -1, 8)).setAttr("strides", new int[] {2, 2}).setAttr("padding", "SAME")
        .build());
  }

  @Test
  void gradientsNeedTheSpatialSizesOfTheInput() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,?,?,3]");
    Output y = tf.conv2d(x, in(tf, "f32[3,3,3,4]"), ONE, "SAME");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.gradients(y, x));
    assertEquals("gradients: the gradient of Conv2D 'Conv2D' needs the height, width and channels of input"
        + " 'Placeholder', got [?,?,?,3]", e.getMessage());
  }

  @Test
  @Covers({"MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad"})
  void poolingOutputSizesAndGradients() {
    Ops tf = newOps();
    Output x = in(tf, "f32[?,28,28,32]");
    assertType("f32[?,14,14,32]", tf.maxPool(x, new int[] {2, 2}, new int[] {2, 2}, "SAME"));
    assertType("f32[?,10,10,32]", tf.avgPool(x, new int[] {3, 3}, new int[] {3, 3}, "SAME"));
    assertType("f32[?,9,9,32]", tf.avgPool(x, new int[] {1, 3, 3, 1}, new int[] {1, 3, 3, 1}, "VALID"));
    assertType("f64[2,3,3,3]", tf.maxPool(in(tf, "f64[2,3,7,7]"), new int[] {2, 2}, new int[] {2, 2}, "VALID", "NCHW"));
    Output p = tf.maxPool(x, new int[] {2, 2}, new int[] {2, 2}, "SAME");
    Output a = tf.avgPool(x, new int[] {2, 2}, new int[] {2, 2}, "SAME");
    assertType("f32[?,28,28,32]", tf.gradients(p, x).get(0));
    Output ga = tf.gradients(a, x).get(0);
    assertEquals("AvgPoolGrad", ga.op().type());
    assertType("f32[?,28,28,32]", ga);
    String node = "MaxPool 'MaxPool_3': ";
    assertFails(node + "attribute 'ksize' [2, 2, 2] must have 2 entries (height, width) or 4 (NHWC order), got 3"
        + " (input [?,28,28,32])", tf, () -> tf.maxPool(x, new int[] {2, 2, 2}, new int[] {2, 2}, "SAME"));
    assertFails(node + "attribute 'padding' must be one of \"SAME\", \"VALID\", got \"EXPLICIT\"", tf,
        () -> tf.maxPool(x, new int[] {2, 2}, new int[] {2, 2}, "EXPLICIT"));
    assertFails(node + "attribute 'strides' [0, 2] must hold sizes >= 1 (input [?,28,28,32])", tf,
        () -> tf.maxPool(x, new int[] {2, 2}, new int[] {0, 2}, "SAME"));
    Output v9 = in(tf, "f32[28,28]");
    assertFails("AvgPool 'AvgPool_3': input [N,H,W,C] (input 0) must be rank 4, got [28,28]", tf,
        () -> tf.avgPool(v9, new int[] {2, 2}, new int[] {2, 2}, "SAME"));
  }

  @Test
  @Covers("BiasAdd")
  void biasAddAddsAlongTheChannelAxis() {
    Ops tf = newOps();
    assertType("f32[?,10]", tf.biasAdd(in(tf, "f32[?,10]"), in(tf, "f32[10]")));
    assertType("f32[2,5,5,3]", tf.biasAdd(in(tf, "f32[2,5,5,3]"), in(tf, "f32[3]")));
    assertType("f64[2,3,5,5]", tf.biasAdd(in(tf, "f64[2,3,5,5]"), in(tf, "f64[3]"), "NCHW"));
    Output v = in(tf, "f32[2,5,5,3]");
    Output v10 = in(tf, "f32[4]");
    assertFails("BiasAdd 'BiasAdd_3': bias has 4 entries, but value [2,5,5,3] has 3 channels (its last dimension)", tf,
        () -> tf.biasAdd(v, v10));
    Output v11 = in(tf, "f32[4]");
    assertFails("BiasAdd 'BiasAdd_3': bias has 4 entries, but value [2,5,5,3] has 5 channels (dimension 1, NCHW)", tf, () -> tf.biasAdd(v, v11, "NCHW"));
    Output v12 = in(tf, "f32[1,3]");
    assertFails("BiasAdd 'BiasAdd_3': bias must be rank 1, got [1,3]", tf, () -> tf.biasAdd(v, v12));
    Output v13 = in(tf, "f32[2,3]");
    Output v14 = in(tf, "f32[3]");
    assertFails("BiasAdd 'BiasAdd_3': value must have rank >= 3 for NCHW, got [2,3]", tf,
        () -> tf.biasAdd(v13, v14, "NCHW"));
  }

  @Test
  void convolutionGraphsRoundTripThroughText() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 12, 12, 4));
    Output f = tf.placeholder("f", DType.FLOAT32, Shape.of(3, 3, 2, 6));
    Output y = tf.conv2d(x, f, new int[] {1, 2, 2, 1}, "EXPLICIT", new int[] {1, 1}, new int[] {1, 0, 0, 1}, "NHWC");
    Output b = tf.biasAdd(y, tf.placeholder("b", DType.FLOAT32, Shape.of(6)));
    Output p = tf.maxPool(tf.relu(b), new int[] {2, 2}, new int[] {2, 2}, "SAME");
    tf.gradients(tf.reduceSum(tf.avgPool(p, new int[] {2, 2}, new int[] {1, 1}, "VALID")), x, f);
    String text = g.toText();
    Graph back = Graph.parse(text);
    GraphAssert.assertSameGraph(g, back);
    assertEquals(text, back.toText());
  }
  @Test
  @Covers("FusedConv2D")
  void fusedConv2dIsConv2dWithABiasPerOutputChannelAndAnActivation() {
    Ops tf = newOps();
    Graph g = tf.graph();
    Output x = in(tf, "f32[?,28,28,3]");
    Output f = in(tf, "f32[5,5,3,8]");
    Output b = in(tf, "f32[8]");
    Operation fc = g.opBuilder("FusedConv2D", "fc").addInput(x).addInput(f).addInput(b)
        .setAttr("strides", new int[] {1, 2, 2, 1}).setAttr("padding", "SAME").setAttr("activation", "relu").build();
    assertType("f32[?,14,14,8]", fc.output(0));
    Operation nchw = g.opBuilder("FusedConv2D", "nchw").addInput(in(tf, "f32[2,3,10,10]")).addInput(f)
        .addInput(b).setAttr("strides", ONE).setAttr("padding", "VALID").setAttr("data_format", "NCHW").build();
    assertType("f32[2,8,6,6]", nchw.output(0));
    Operation noBias = g.opBuilder("FusedConv2D", "nb").addInput(x).addInput(f).setAttr("strides", ONE)
        .setAttr("padding", "VALID").build();
    assertType("f32[?,24,24,8]", noBias.output(0));
    Output wrong = in(tf, "f32[3]");
    assertFails("FusedConv2D 'fc2': bias must be [8], one entry per output channel, got [3]", tf,
        () -> g.opBuilder("FusedConv2D", "fc2").addInput(x).addInput(f).addInput(wrong).setAttr("strides", ONE)
            .setAttr("padding", "SAME").build());
    Output f64 = in(tf, "f64[8]");
    assertFails("FusedConv2D 'fc3': dtypes differ: f32 vs f64", tf,
        () -> g.opBuilder("FusedConv2D", "fc3").addInput(x).addInput(f).addInput(f64).setAttr("strides", ONE)
            .setAttr("padding", "SAME").build());
    assertFails("FusedConv2D 'fc4': attribute 'activation' must be one of \"none\", \"relu\", \"sigmoid\", \"tanh\","
        + " got \"gelu\"", tf, () -> g.opBuilder("FusedConv2D", "fc4").addInput(x).addInput(f).setAttr("strides", ONE)
            .setAttr("padding", "SAME").setAttr("activation", "gelu").build());
    Operation bn = g.opBuilder("FusedConv2D", "bn").addInput(x).addInput(f).addInput(b).addInput(b).addInput(b)
        .addInput(b).setAttr("strides", ONE).setAttr("padding", "SAME").setAttr("epsilon", 1e-5).build();
    assertType("f32[?,28,28,8]", bn.output(0));
    assertFails("FusedConv2D 'bn2': variance must be [8], one entry per output channel, got [3]", tf,
        () -> g.opBuilder("FusedConv2D", "bn2").addInput(x).addInput(f).addInput(b).addInput(b).addInput(b)
            .addInput(wrong).setAttr("strides", ONE).setAttr("padding", "SAME").build());
    assertFails("FusedConv2D 'bn3': takes a bias (3 inputs) or batch normalization's scale, offset, mean and"
        + " variance (6 inputs), got 4 inputs", tf,
        () -> g.opBuilder("FusedConv2D", "bn3").addInput(x).addInput(f).addInput(b).addInput(b).setAttr("strides", ONE)
            .setAttr("padding", "SAME").build());
    assertFails("FusedConv2D 'fc5': filter [kh,kw,in,out] (input 1) must be rank 4, got [8]", tf,
        () -> g.opBuilder("FusedConv2D", "fc5").addInput(x).addInput(b).setAttr("strides", ONE)
            .setAttr("padding", "SAME").build());
  }
}
