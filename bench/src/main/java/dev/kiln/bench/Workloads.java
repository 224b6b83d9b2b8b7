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
}
