package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.ConvKernelsTest.Case;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * FusedConv2D against the float64 convolution loops of {@link ConvKernelsTest} followed by a bias
 * add and activation written here; and a small convolutional network trained with the optimizer's
 * fusion and without it.
 */
class FusedConvKernelTest {
  private static double act(String a, double v) {
    return switch (a) {
      case "relu" -> Math.max(0, v);
      case "sigmoid" -> 1 / (1 + Math.exp(-v));
      case "tanh" -> Math.tanh(v);
      default -> v;
    };
  }

  static Stream<Case> cases() {
    Set<String> picked = Set.of("3x3 SAME", "NCHW stride 2 SAME", "2 groups", "1x1 batch 40 (blocks over the cores)",
        "5x5 SAME batch 20 (several blocks over the cores)", "3x3 stride 2 NCHW batch 9 (blocks over the cores)", "depthwise-like 3 groups",
        "depthwise 19 channels stride 2 SAME batch 12 (parts over the cores)");
    List<Case> l = ConvKernelsTest.cases().filter(c -> picked.contains(c.name())).toList();
    assertEquals(picked.size(), l.size());
    return l.stream();
  }

  private static double[] abs(double[] v) {
    double[] a = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      a[i] = Math.abs(v[i]);
    }
    return a;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void everyActivationWithAndWithoutBiasInBothDtypes(Case t) {
    Random rnd = new Random(11);
    double[] x = ConvKernelsTest.random(rnd, t.n() * t.h() * t.w() * t.c());
    double[] f = ConvKernelsTest.random(rnd, t.kh() * t.kw() * t.fc() * t.k());
    double[] b = ConvKernelsTest.random(rnd, t.k());
    double[] scale = ConvKernelsTest.random(rnd, t.k());
    double[] offset = ConvKernelsTest.random(rnd, t.k());
    double[] mean = ConvKernelsTest.random(rnd, t.k());
    double[] variance = abs(ConvKernelsTest.random(rnd, t.k()));
    double eps = 1e-3;
    double[] conv = ConvKernelsTest.refConv(t, x, f);
    double[] mag = ConvKernelsTest.refConv(t, abs(x), abs(f));
    int kk = t.kh() * t.kw() * t.fc();
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      for (String a : List.of("none", "relu", "sigmoid", "tanh")) {
        for (String epilogue : List.of("bias", "none", "batch norm")) {
          boolean withBias = epilogue.equals("bias");
          boolean bn = epilogue.equals("batch norm");
          KernelHarness h = new KernelHarness();
          Output xp = h.input(ConvKernelsTest.tensor(d, x, t.inDims()));
          Output fp = h.input(ConvKernelsTest.tensor(d, f, t.kh(), t.kw(), t.fc(), t.k()));
          Output plain = h.tf.conv2d(xp, fp, t.nchw() ? new int[] {1, 1, t.sh(), t.sw()} : new int[] {1, t.sh(), t.sw(), 1},
              t.padding(), new int[] {t.dh(), t.dw()}, t.explicit() == null ? new int[0] : t.explicit(), t.format());
          OperationBuilder ob = h.graph.opBuilder("FusedConv2D", "fc").addInput(xp).addInput(fp);
          if (withBias) {
            ob.addInput(h.input(ConvKernelsTest.tensor(d, b, t.k())));
          }
          if (bn) {
            for (double[] v : List.of(scale, offset, mean, variance)) {
              ob.addInput(h.input(ConvKernelsTest.tensor(d, v, t.k())));
            }
            ob.setAttr("epsilon", eps);
          }
          Operation op = ob.setAttrs(plain.op().attrs()).setAttr("activation", a).build();
          Tensor got = h.runAll(op).get(0);
          double ulp = d == DType.FLOAT32 ? Math.ulp(1f) : Math.ulp(1.0);
          for (int im = 0; im < t.n(); im++) {
            for (int oy = 0; oy < t.oh(); oy++) {
              for (int ox = 0; ox < t.ow(); ox++) {
                for (int ch = 0; ch < t.k(); ch++) {
                  int e = t.out(im, oy, ox, ch);
                  double bias = withBias ? b[ch] : 0;
                  double inv = bn ? scale[ch] / Math.sqrt(variance[ch] + eps) : 1;
                  double pre = bn ? (conv[e] - mean[ch]) * inv + offset[ch] : conv[e] + bias;
                  double want = act(a, pre);
                  double around = bn ? Math.abs(inv) * (mag[e] + Math.abs(mean[ch])) + Math.abs(offset[ch]) : mag[e] + Math.abs(bias);
                  double tol = (kk + 4) * ulp * around + 4 * ulp * Math.abs(want) + Double.MIN_VALUE;
                  double v = got.getDouble(e);
                  assertTrue(Math.abs(v - want) <= tol, t + " " + d + " " + a + " " + epilogue + " element " + e
                      + ": expected " + want + " but was " + v);
                }
              }
            }
          }
        }
      }
    }
  }

  /**
   * Two convolution layers (relu(conv + BiasAdd), then relu(conv + Add of a bias)) with max pooling
   * and a softmax loss, trained four SGD steps: the optimized Session runs them as FusedConv2D nodes
   * (no Relu or BiasAdd left) and computes what the unoptimized one does.
   */
  @Test
  void aTrainedConvolutionalNetworkRunsFusedAndComputesWhatTheUnfusedOneDoes() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    int batch = 6;
    Random rnd = new Random(3);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 10, 10, 2));
    Output labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
    Variable f1 = tf.variable("f1", tf.constant(tensor(rnd, 0.3, 3, 3, 2, 8)));
    Variable b1 = tf.variable("b1", tf.constant(tensor(rnd, 0.1, 8)));
    Variable f2 = tf.variable("f2", tf.constant(tensor(rnd, 0.2, 3, 3, 8, 6)));
    Variable b2 = tf.variable("b2", tf.constant(tensor(rnd, 0.1, 6)));
    Variable w = tf.variable("w", tf.constant(tensor(rnd, 0.2, 150, 3)));
    Output h1 = tf.relu(tf.biasAdd(tf.conv2d(x, f1, new int[] {1, 1}, "SAME"), b1));
    Output p1 = tf.maxPool(h1, new int[] {2, 2}, new int[] {2, 2}, "SAME");
    Output h2 = tf.relu(tf.add(tf.conv2d(p1, f2, new int[] {1, 1}, "SAME"), b2));
    Output logits = tf.matmul(tf.reshape(h2, -1, 150), w);
    Output picked = tf.reduceSum(tf.mul(tf.oneHot(labels, 3), tf.logSoftmax(logits, 1)), new int[] {1}, false);
    Output loss = tf.neg(tf.reduceMean(picked));
    List<Output> params = List.of(f1, b1, f2, b2, w);
    List<Output> grads = tf.gradients(loss, params);
    Operation[] updates = new Operation[params.size()];
    for (int i = 0; i < updates.length; i++) {
      updates[i] = tf.assignSub(params.get(i), tf.mul(tf.constant(0.1f), grads.get(i))).op();
    }
    Operation train = tf.group(updates);
    Tensor xv = tensor(rnd, 1, batch, 10, 10, 2);
    Tensor lv = Tensor.of(new int[] {0, 2, 1, 1, 0, 2}, batch);
    List<List<Tensor>> results = new ArrayList<>();
    for (SessionOptions o : List.of(SessionOptions.defaults(), SessionOptions.builder().optimize(false).build())) {
      List<Tensor> r = new ArrayList<>();
      try (Session s = new Session(g, o)) {
        s.run(tf.globalVariablesInitializer());
        for (int step = 0; step < 4; step++) {
          r.add(s.runner().feed(x, xv).feed(labels, lv).fetch(loss).addTarget(train).run().get(0));
        }
        for (Output p : params) {
          r.add(s.variableValue((Variable) p));
        }
      }
      results.add(r);
    }
    assertTrue(results.get(0).get(3).getDouble(0) < results.get(0).get(0).getDouble(0), "training lowers the loss");
    dev.kiln.optimizer.Program optimized = dev.kiln.optimizer.Optimizer.defaultPipeline(CpuConstantEvaluator.instance(),
        CpuKernels.registry(), Set.of()).run(new dev.kiln.optimizer.Program(g, List.of(loss), List.of(train), Set.of(x, labels)));
    List<String> types = optimized.graph().operations().stream().map(Operation::type).toList();
    assertEquals(List.of(), types.stream().filter(ty -> ty.equals("Relu") || ty.equals("BiasAdd") || ty.equals("Conv2D")).toList());
    assertEquals(List.of("relu", "relu"), optimized.graph().operations().stream().filter(op -> op.type().equals("FusedConv2D"))
        .map(op -> op.attrs().getString("activation")).toList());
    for (int i = 0; i < results.get(0).size(); i++) {
      Tensor on = results.get(0).get(i);
      Tensor off = results.get(1).get(i);
      for (int k = 0; k < on.size(); k++) {
        assertEquals(off.getDouble(k), on.getDouble(k), 1e-5 * (1 + Math.abs(off.getDouble(k))), "value " + i + " element " + k);
      }
    }
  }

  /**
   * Inference: conv, batch normalization with given statistics, relu; the optimized Session runs one
   * FusedConv2D of six inputs and computes what the unoptimized one does.
   */
  @Test
  void inferenceBatchNormAfterAConvolutionRunsFused() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Random rnd = new Random(9);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 9, 9, 3));
    Output f = tf.constant(tensor(rnd, 0.5, 3, 3, 3, 7));
    Output variance = tf.abs(tf.constant(tensor(rnd, 1, 7)));
    List<Output> bn = tf.batchNorm(tf.conv2d(x, f, new int[] {2, 2}, "SAME"), tf.constant(tensor(rnd, 1, 7)),
        tf.constant(tensor(rnd, 1, 7)), tf.constant(tensor(rnd, 1, 7)), variance, 1e-3, false);
    Output y = tf.relu(bn.get(0));
    Tensor xv = tensor(rnd, 1, 4, 9, 9, 3);
    List<Tensor> out = new ArrayList<>();
    for (SessionOptions o : List.of(SessionOptions.defaults(), SessionOptions.builder().optimize(false).build())) {
      try (Session s = new Session(g, o)) {
        out.add(s.run(Map.of(x, xv), y).get(0));
      }
    }
    dev.kiln.optimizer.Program optimized = dev.kiln.optimizer.Optimizer.defaultPipeline(CpuConstantEvaluator.instance(),
        CpuKernels.registry(), Set.of()).run(new dev.kiln.optimizer.Program(g, List.of(y), List.of(), Set.of(x)));
    List<Operation> fused = optimized.graph().operations().stream().filter(op -> op.type().equals("FusedConv2D")).toList();
    assertEquals(1, fused.size(), optimized.graph().toText());
    assertEquals(6, fused.get(0).numInputs());
    assertEquals("relu", fused.get(0).attrs().getString("activation"));
    for (int k = 0; k < out.get(0).size(); k++) {
      assertEquals(out.get(1).getDouble(k), out.get(0).getDouble(k), 1e-5 * (1 + Math.abs(out.get(1).getDouble(k))), "element " + k);
    }
  }

  private static Tensor tensor(Random rnd, double scale, int... dims) {
    int size = 1;
    for (int d : dims) {
      size *= d;
    }
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) (scale * rnd.nextGaussian());
    }
    return Tensor.of(v, dims);
  }
}
