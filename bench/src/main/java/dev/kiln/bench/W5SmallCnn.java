package dev.kiln.bench;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * W5 "small CNN training step" of the performance anchors: batch 64 of 28x28x1 images, conv 5x5x32
 * SAME + bias, relu, max-pool 2x2, conv 5x5x64 SAME + bias, relu, max-pool 2x2, dense 1024 + bias,
 * relu, dense 10 + bias, softmax cross-entropy (mean), SGD lr 0.01 on the 8 parameters; the anchors'
 * data (images seed 51, labels 52, weights 53-56, zero biases). {@code java -cp benchmarks.jar
 * dev.kiln.bench.W5SmallCnn [timed steps [warm-up steps]]} runs 20 + 100 steps as the anchors do and
 * prints {@code RESULT W5 kiln <median> ms/step <notes>}.
 */
public final class W5SmallCnn {
  public static final int BATCH = 64;
  /** FLOPs per step as the anchors count them (convolutions and products only). */
  public static final double FLOP_PER_STEP;

  static {
    double conv1 = 2.0 * 64 * 28 * 28 * 32 * 25;
    double conv2 = 2.0 * 64 * 14 * 14 * 64 * (25 * 32);
    double d1 = 2.0 * 64 * 3136 * 1024;
    double d2 = 2.0 * 64 * 1024 * 10;
    double fwd = conv1 + conv2 + d1 + d2;
    FLOP_PER_STEP = fwd + fwd + (fwd - conv1);
  }

  public final Graph graph = new Graph();
  public final Output x;
  public final Output labels;
  public final Output loss;
  public final Operation train;
  public final Operation init;
  public final Tensor xv;
  public final Tensor labelsV = Tensor.of(AnchorData.labels(52, BATCH, 10), BATCH);

  public W5SmallCnn() {
    float[] images = new float[BATCH * 28 * 28];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) AnchorData.uniform(51, i);
    }
    xv = Tensor.of(images, BATCH, 28, 28, 1);
    Ops tf = Ops.create(graph);
    x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 28, 28, 1));
    labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
    Variable wc1 = var(tf, "wc1", AnchorData.normal(53, 5 * 5 * 32, Math.sqrt(2.0 / 25)), 5, 5, 1, 32);
    Variable bc1 = var(tf, "bc1", new float[32], 32);
    Variable wc2 = var(tf, "wc2", AnchorData.normal(54, 5 * 5 * 32 * 64, Math.sqrt(2.0 / 800)), 5, 5, 32, 64);
    Variable bc2 = var(tf, "bc2", new float[64], 64);
    Variable wd1 = var(tf, "wd1", AnchorData.normal(55, 3136 * 1024, Math.sqrt(2.0 / 3136)), 3136, 1024);
    Variable bd1 = var(tf, "bd1", new float[1024], 1024);
    Variable wd2 = var(tf, "wd2", AnchorData.normal(56, 1024 * 10, Math.sqrt(2.0 / 1024)), 1024, 10);
    Variable bd2 = var(tf, "bd2", new float[10], 10);
    int[] one = {1, 1};
    int[] two = {2, 2};
    Output h1 = tf.relu(tf.biasAdd(tf.conv2d(x, wc1, one, "SAME"), bc1));
    Output p1 = tf.maxPool(h1, two, two, "SAME");
    Output h2 = tf.relu(tf.biasAdd(tf.conv2d(p1, wc2, one, "SAME"), bc2));
    Output p2 = tf.maxPool(h2, two, two, "SAME");
    Output flat = tf.reshape(p2, -1, 3136);
    Output h3 = tf.relu(tf.biasAdd(tf.matmul(flat, wd1), bd1));
    Output logits = tf.biasAdd(tf.matmul(h3, wd2), bd2);
    Output logp = tf.logSoftmax(logits, 1);
    Output picked = tf.reduceSum(tf.mul(tf.oneHot(labels, 10), logp), new int[] {1}, false);
    loss = tf.withName("loss").neg(tf.reduceMean(picked));
    List<Output> params = List.of(wc1, bc1, wc2, bc2, wd1, bd1, wd2, bd2);
    List<Output> grads = tf.gradients(loss, params);
    Output lr = tf.constant(0.01f);
    List<Operation> updates = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      updates.add(tf.assignSub(params.get(i), tf.mul(lr, grads.get(i))).op());
    }
    train = tf.withName("train").group(updates.toArray(Operation[]::new));
    init = tf.globalVariablesInitializer();
  }

  private static Variable var(Ops tf, String name, float[] v, int... dims) {
    return tf.variable(name, tf.constant(Tensor.of(v, dims)));
  }

  public static void main(String[] args) {
    int iters = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    W5SmallCnn net = new W5SmallCnn();
    try (Session s = new Session(net.graph)) {
      s.run(net.init);
      StepTimes t = StepTimes.measure(warmup, iters, () -> s.runner().feed(net.x, net.xv)
          .feed(net.labels, net.labelsV).fetch(net.loss).addTarget(net.train).run().get(0).floatValue());
      double med = t.medianMs();
      double[] losses = t.losses();
      int last = losses.length - 1;
      System.out.printf(Locale.ROOT, "RESULT\tW5\tkiln\t%.4f\tms/step\tGFLOP/s=%.1f loss0=%.6g loss%d=%.6g loss%d=%.6g"
          + " min=%.4f iters=%d warmup=%d%n", med, FLOP_PER_STEP / (med * 1e-3) / 1e9, losses[0], warmup,
          losses[warmup], last, losses[last], t.minMs(), iters, warmup);
    }
  }
}
