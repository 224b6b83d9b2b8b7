package dev.kiln.runtime.kernels;

import static dev.kiln.runtime.kernels.Float32Checks.assertClose;
import static dev.kiln.runtime.kernels.Float32Checks.random;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * oneDNN's convolutions and Kiln's own im2col kernels, each against the float64 direct loops, over the
 * geometries the graph API allows (layouts, strides, dilations, groups, uneven padding). The public
 * conv tests run whichever path a Session picks (oneDNN where it loads); this one runs both.
 */
class DnnlConvTest {
  private static final String NO_DNNL = "oneDNN did not load on this machine; convolutions use Kiln's own kernels";

  // nchw, batch, inH, inW, inC, kh, kw, outC, groups, strideH, strideW, dilH, dilW, padTop, padLeft, outH, outW
  static Stream<ConvGeometry> geometries() {
    return Stream.of(
        new ConvGeometry(false, 3, 14, 14, 8, 5, 5, 16, 1, 1, 1, 1, 1, 2, 2, 14, 14),
        new ConvGeometry(false, 2, 11, 9, 3, 3, 3, 5, 1, 2, 2, 1, 1, 0, 0, 5, 4),
        new ConvGeometry(false, 2, 12, 12, 4, 3, 3, 6, 1, 1, 1, 2, 2, 2, 2, 12, 12),
        new ConvGeometry(false, 2, 8, 8, 6, 3, 3, 4, 2, 1, 1, 1, 1, 1, 1, 8, 8),
        new ConvGeometry(false, 2, 7, 8, 3, 4, 4, 5, 1, 2, 2, 1, 1, 1, 1, 4, 4),
        new ConvGeometry(true, 2, 9, 10, 4, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 9, 10),
        new ConvGeometry(false, 4, 6, 6, 16, 1, 1, 32, 1, 1, 1, 1, 1, 0, 0, 6, 6));
  }

  @ParameterizedTest
  @MethodSource("geometries")
  void eachKindMatchesTheFloat64LoopsOnBothPaths(ConvGeometry g) {
    Random rnd = new Random(11);
    float[] x = random(rnd, g.batch() * g.inH() * g.inW() * g.inC());
    float[] w = random(rnd, g.kh() * g.kw() * g.groupInC() * g.outC());
    float[] dy = random(rnd, g.batch() * g.outH() * g.outW() * g.outC());
    ConvKernels.DirectConv ref = new ConvKernels.DirectConv(g);
    ConvKernels.Im2colConv im2col = new ConvKernels.Im2colConv(g);
    for (ConvKernels.Kind kind : ConvKernels.Kind.values()) {
      float[] a = kind == ConvKernels.Kind.BACKPROP_INPUT ? w : x;
      float[] b = kind == ConvKernels.Kind.FORWARD ? w : dy;
      int size = switch (kind) {
        case FORWARD -> dy.length;
        case BACKPROP_INPUT -> x.length;
        case BACKPROP_FILTER -> w.length;
      };
      float[] expected = new float[size];
      ref.run(kind, a, b, expected);
      float[] own = new float[size];
      switch (kind) {
        case FORWARD -> im2col.forward(a, b, own);
        case BACKPROP_INPUT -> im2col.backpropInput(a, b, own);
        case BACKPROP_FILTER -> im2col.backpropFilter(a, b, own);
      }
      assertClose(expected, own, g + " " + kind + " im2col");
      if (DnnlEngine.AVAILABLE) {
        DnnlPrimitive dnnl = DnnlConv.create(g, kind, false, false).orElseThrow();
        float[] got = new float[size];
        dnnl.run(got, a, b);
        assertClose(expected, got, g + " " + kind + " oneDNN " + dnnl.implementation());
      }
    }
    assumeTrue(DnnlEngine.AVAILABLE, NO_DNNL);
  }

  @Test
  void theForwardAddsTheBiasAndAppliesReluInItsPass() {
    assumeTrue(DnnlEngine.AVAILABLE, NO_DNNL);
    ConvGeometry g = geometries().findFirst().orElseThrow();
    Random rnd = new Random(5);
    float[] x = random(rnd, g.batch() * g.inH() * g.inW() * g.inC());
    float[] w = random(rnd, g.kh() * g.kw() * g.inC() * g.outC());
    float[] bias = random(rnd, g.outC());
    float[] expected = new float[g.batch() * g.outH() * g.outW() * g.outC()];
    new ConvKernels.DirectConv(g).run(ConvKernels.Kind.FORWARD, x, w, expected);
    for (int i = 0; i < expected.length; i++) {
      expected[i] = Math.max(0f, expected[i] + bias[i % g.outC()]);
    }
    float[] got = new float[expected.length];
    DnnlConv.create(g, ConvKernels.Kind.FORWARD, true, true).orElseThrow().run(got, x, w, bias);
    assertClose(expected, got, "bias + relu");
  }

  @Test
  void aConstantFilterPackedOnceGivesTheLoopsValuesAndAFedFilterIsHonoured() {
    ConvGeometry g = geometries().findFirst().orElseThrow();
    Random rnd = new Random(9);
    float[] x = random(rnd, g.batch() * g.inH() * g.inW() * g.inC());
    float[] w = random(rnd, g.kh() * g.kw() * g.inC() * g.outC());
    float[] other = random(rnd, w.length);
    float[] bias = random(rnd, g.outC());
    Graph graph = new Graph();
    Ops tf = Ops.create(graph);
    Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(g.batch(), g.inH(), g.inW(), g.inC()));
    Output filter = tf.constant(Tensor.of(w, g.kh(), g.kw(), g.inC(), g.outC()));
    Output y = tf.relu(tf.biasAdd(tf.conv2d(xp, filter, new int[] {1, 1}, "SAME"), tf.constant(Tensor.of(bias, g.outC()))));
    try (Session s = new Session(graph)) {
      for (float[] f : new float[][] {w, other}) {
        Map<Output, Tensor> feeds = f == w ? Map.of(xp, Tensor.of(x, g.batch(), g.inH(), g.inW(), g.inC()))
            : Map.of(xp, Tensor.of(x, g.batch(), g.inH(), g.inW(), g.inC()), filter,
                Tensor.of(f, g.kh(), g.kw(), g.inC(), g.outC()));
        float[] expected = new float[g.batch() * g.outH() * g.outW() * g.outC()];
        new ConvKernels.DirectConv(g).run(ConvKernels.Kind.FORWARD, x, f, expected);
        for (int i = 0; i < expected.length; i++) {
          expected[i] = Math.max(0f, expected[i] + bias[i % g.outC()]);
        }
        assertClose(expected, s.run(feeds, y).get(0).toFloatArray(), f == w ? "constant filter" : "fed filter");
      }
    }
  }

  @Test
  void concurrentRunsOfOnePrimitiveKeepTheirOwnBuffers() throws Exception {
    ConvGeometry g = geometries().findFirst().orElseThrow();
    Random rnd = new Random(13);
    float[] w = random(rnd, g.kh() * g.kw() * g.inC() * g.outC());
    float[][] inputs = new float[4][];
    float[][] expected = new float[4][];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = random(rnd, g.batch() * g.inH() * g.inW() * g.inC());
      expected[i] = new float[g.batch() * g.outH() * g.outW() * g.outC()];
      new ConvKernels.DirectConv(g).run(ConvKernels.Kind.FORWARD, inputs[i], w, expected[i]);
    }
    // Through the kernel a plan uses, so Kiln's own kernels are checked where oneDNN is absent.
    Kernel conv = ConvKernels.factory(ConvKernels.Kind.FORWARD).create(new KernelSpec(
        convOp(g, w), List.of(new TensorType(DType.FLOAT32, Shape.of(g.batch(), g.inH(), g.inW(), g.inC())),
            new TensorType(DType.FLOAT32, Shape.of(g.kh(), g.kw(), g.inC(), g.outC()))),
        List.of(new TensorType(DType.FLOAT32, Shape.of(g.batch(), g.outH(), g.outW(), g.outC()))),
        new int[] {0, 1}, new int[] {2}));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int which = t;
        runs.add(pool.submit(() -> {
          for (int rep = 0; rep < 25; rep++) {
            Object[] frame = {inputs[which], w, new float[expected[which].length]};
            conv.run(frame);
            assertClose(expected[which], (float[]) frame[2], "thread " + which + " run " + rep);
          }
          return null;
        }));
      }
      for (Future<?> r : runs) {
        r.get();
      }
    } finally {
      pool.shutdown();
    }
  }

  private static dev.kiln.graph.Operation convOp(ConvGeometry g, float[] w) {
    Ops tf = Ops.create(new Graph());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(g.batch(), g.inH(), g.inW(), g.inC()));
    return tf.conv2d(x, tf.constant(Tensor.of(w, g.kh(), g.kw(), g.inC(), g.outC())), new int[] {1, 1}, "SAME").op();
  }

  @Test
  void aGeometryOneDnnCannotTakeIsLeftToKilnsKernels() {
    // VALID 2x2 windows at stride 3 over 7 columns: the last input column lies past every window, which
    // oneDNN would have to describe as negative end padding.
    ConvGeometry g = new ConvGeometry(false, 1, 7, 7, 2, 2, 2, 2, 1, 3, 3, 1, 1, 0, 0, 2, 2);
    assertFalse(DnnlConv.create(g, ConvKernels.Kind.FORWARD, false, false).isPresent());
  }

  @Test
  void aLargeConvolutionGetsAJitImplementation() {
    assumeTrue(DnnlEngine.AVAILABLE, NO_DNNL);
    ConvGeometry g = new ConvGeometry(false, 64, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, 1, 2, 2, 14, 14);
    for (ConvKernels.Kind kind : ConvKernels.Kind.values()) {
      String impl = DnnlConv.create(g, kind, false, false).orElseThrow().implementation();
      assertFalse(impl.startsWith("ref"), kind + " runs oneDNN's reference loops: " + impl);
    }
  }
}
