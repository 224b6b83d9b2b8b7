package dev.kiln.bench;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;

/** The anchors' workloads as Kiln graphs, on the anchors' data. */
public final class Workloads {
  private Workloads() {}

  /**
   * W1: the seed two-layer network (64x1000 -> 100 -> 10, relu as maximum(h, 0), sum of squared
   * error) and its training step, the gradients built by {@code tf.gradients} (or, to measure what
   * autodiff costs, written by hand as graph ops).
   */
  public static final class TwoLayer {
    public static final int N = 64;
    public static final int D_IN = 1000;
    public static final int H = 100;
    public static final int D_OUT = 10;

    public final Graph graph = new Graph();
    public final Output x;
    public final Output y;
    public final Variable w1;
    public final Variable w2;
    public final Output loss;
    public final Output newW1;
    public final Output newW2;
    public final Operation init;
    public final Tensor xv = Tensor.of(AnchorData.normal(1, N * D_IN, 1.0), N, D_IN);
    public final Tensor yv = Tensor.of(AnchorData.normal(2, N * D_OUT, 1.0), N, D_OUT);

    /** The training step with gradients from {@code tf.gradients(loss, w1, w2)}. */
    public TwoLayer() {
      this(false);
    }

    public TwoLayer(boolean handWrittenGradients) {
      Ops tf = Ops.create(graph);
      x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, D_IN));
      y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, D_OUT));
      w1 = tf.variable("w1", tf.constant(Tensor.of(AnchorData.normal(3, D_IN * H, 1.0), D_IN, H)));
      w2 = tf.variable("w2", tf.constant(Tensor.of(AnchorData.normal(4, H * D_OUT, 1.0), H, D_OUT)));
      Output h = tf.matmul(x, w1);
      Output zero = tf.constant(0f);
      Output hRelu = tf.maximum(h, zero);
      Output yPred = tf.matmul(hRelu, w2);
      Output diff = tf.sub(yPred, y);
      loss = tf.withName("loss").reduceSum(tf.square(diff));
      Output gradW1;
      Output gradW2;
      if (handWrittenGradients) {
        Output gradYPred = tf.mul(tf.constant(2f), diff);
        gradW2 = tf.matmul(hRelu, gradYPred, true, false);
        Output gradHRelu = tf.matmul(gradYPred, w2, false, true);
        Output gradH = tf.select(tf.less(h, zero), tf.zerosLike(gradHRelu), gradHRelu);
        gradW1 = tf.matmul(x, gradH, true, false);
      } else {
        java.util.List<Output> grads = tf.gradients(loss, w1, w2);
        gradW1 = grads.get(0);
        gradW2 = grads.get(1);
      }
      Output lr = tf.constant(1e-6f);
      newW1 = tf.withName("new_w1").assign(w1, tf.sub(w1, tf.mul(lr, gradW1)));
      newW2 = tf.withName("new_w2").assign(w2, tf.sub(w2, tf.mul(lr, gradW2)));
      init = tf.globalVariablesInitializer();
    }
  }

  /** W3: y = tanh(exp(-x*x) * 0.5 + sigmoid(x)) * x - 1 over 4,194,304 floats; fetch sum(y). */
  public static final class ElementwiseChain {
    public static final int SIZE = 4_194_304;
    public final Graph graph = new Graph();
    public final Output x;
    public final Output sum;
    public final Tensor xv = Tensor.of(AnchorData.normal(21, SIZE, 1.0), SIZE);

    public ElementwiseChain() {
      Ops tf = Ops.create(graph);
      x = tf.placeholder("x", DType.FLOAT32, Shape.of(SIZE));
      Output e = tf.exp(tf.mul(tf.neg(x), x));
      Output t = tf.tanh(tf.add(tf.mul(e, tf.constant(0.5f)), tf.sigmoid(x)));
      Output y = tf.sub(tf.mul(t, x), tf.constant(1f));
      sum = tf.reduceSum(y);
    }
  }

  /** W4: 1000 chained tiny ops (alternating y*1.0001 and y+0.0001) on 16 floats; and feed -> Identity -> fetch. */
  public static final class Dispatch {
    public static final int OPS = 1000;
    public final Graph graph = new Graph();
    public final Output x;
    public final Output y;
    public final Output identity;
    public final Tensor xv = Tensor.of(AnchorData.normal(31, 16, 1.0), 16);

    public Dispatch() {
      Ops tf = Ops.create(graph);
      x = tf.placeholder("x", DType.FLOAT32, Shape.of(16));
      Output mul = tf.constant(1.0001f);
      Output add = tf.constant(0.0001f);
      Output v = x;
      for (int i = 0; i < OPS; i++) {
        v = i % 2 == 0 ? tf.mul(v, mul) : tf.add(v, add);
      }
      y = v;
      identity = tf.identity(x);
    }
  }

  /** C = A(MxK) . B(KxN) with A, B fed (seeds 41, 42). */
  public static final class Sgemm {
    public final Graph graph = new Graph();
    public final Output a;
    public final Output b;
    public final Output c;
    public final Tensor av;
    public final Tensor bv;

    public Sgemm(int m, int k, int n) {
      Ops tf = Ops.create(graph);
      a = tf.placeholder("a", DType.FLOAT32, Shape.of(m, k));
      b = tf.placeholder("b", DType.FLOAT32, Shape.of(k, n));
      c = tf.matmul(a, b);
      av = Tensor.of(AnchorData.normal(41, m * k, 1.0), m, k);
      bv = Tensor.of(AnchorData.normal(42, k * n, 1.0), k, n);
    }
  }

  /** Session options for a benchmark's {@code pipeline} parameter: "on" (default) or "off". */
  public static dev.kiln.runtime.SessionOptions options(String pipeline) {
    return dev.kiln.runtime.SessionOptions.builder().optimize(!pipeline.equals("off")).build();
  }

  /**
   * W2 "wide MLP": batch 256, 784 -> 1024 -> 1024 -> 10, relu(x W + b), softmax cross-entropy with
   * integer labels (one-hot in the graph, log-softmax, mean over the batch), plain SGD lr 0.01 as
   * assignSub targets; fetch the loss. Anchors' data: x seed 11, labels 12, weights 13-15, zero biases.
   */
  public static final class WideMlp {
    public static final int BATCH = 256;
    public static final int[] SIZES = {784, 1024, 1024, 10};
    /** 6 x batch x weights: forward, and two products per layer backward. */
    public static final double FLOP_PER_STEP = 6.0 * BATCH * (784.0 * 1024 + 1024.0 * 1024 + 1024.0 * 10);

    public final Graph graph = new Graph();
    public final Output x;
    public final Output labels;
    public final Output loss;
    public final Operation train;
    public final Operation init;
    public final Tensor xv = Tensor.of(AnchorData.normal(11, BATCH * 784, 1.0), BATCH, 784);
    public final Tensor labelsV = Tensor.of(AnchorData.labels(12, BATCH, 10), BATCH);

    public WideMlp() {
      Ops tf = Ops.create(graph);
      x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));
      labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
      double[] scale = {Math.sqrt(2.0 / 784), Math.sqrt(2.0 / 1024), Math.sqrt(1.0 / 1024)};
      java.util.List<Output> params = new java.util.ArrayList<>();
      Output h = x;
      for (int l = 0; l < 3; l++) {
        int in = SIZES[l];
        int out = SIZES[l + 1];
        Variable w = tf.variable("w" + (l + 1), tf.constant(Tensor.of(AnchorData.normal(13 + l, in * out, scale[l]), in, out)));
        Variable b = tf.variable("b" + (l + 1), tf.constant(Tensor.of(new float[out], out)));
        params.add(w);
        params.add(b);
        Output z = tf.add(tf.matmul(h, w), b);
        h = l < 2 ? tf.relu(z) : z;
      }
      Output logp = tf.logSoftmax(h, 1);
      Output picked = tf.reduceSum(tf.mul(tf.oneHot(labels, 10), logp), new int[] {1}, false);
      loss = tf.withName("loss").neg(tf.reduceMean(picked));
      java.util.List<Output> grads = tf.gradients(loss, params);
      Output lr = tf.constant(0.01f);
      Operation[] updates = new Operation[params.size()];
      for (int i = 0; i < updates.length; i++) {
        updates[i] = tf.assignSub(params.get(i), tf.mul(lr, grads.get(i))).op();
      }
      train = tf.withName("train").group(updates);
      init = tf.globalVariablesInitializer();
    }
  }
}
