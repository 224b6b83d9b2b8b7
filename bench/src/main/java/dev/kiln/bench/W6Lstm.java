package dev.kiln.bench;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.nn.DynamicRnn;
import dev.kiln.nn.LstmCell;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * W6 "LSTM training step" of the performance anchors: batch 32, 50 time steps, input 64, hidden 256,
 * one LSTM layer (PyTorch's gates i, f, g, o; two zero biases; h0 = c0 = 0) run by {@link DynamicRnn}
 * (a whileLoop forward, a written-out backward loop) over time-major inputs, a dense head on the last
 * h to 10 classes, softmax cross-entropy (mean), SGD lr 0.01 on the 6 parameters; the anchors' data (w_ih seed 61, w_hh 62, w_out 63, x 64, labels 65).
 * {@code java -cp benchmarks.jar dev.kiln.bench.W6Lstm [timed steps [warm-up steps [loop|unrolled]]]}
 * runs 10 + 50 steps as the anchors do and prints {@code RESULT W6 kiln <median> ms/step <notes>}
 * ({@code kiln:unrolled} for the steps unrolled into the graph instead of run in a whileLoop).
 */
public final class W6Lstm {
  public static final int T = 50;
  public static final int BATCH = 32;
  public static final int INPUT = 64;
  public static final int HIDDEN = 256;
  public static final int CLASSES = 10;
  /** FLOPs per step as the anchors count them (products only; the t = 0 products with h0 = 0 included). */
  public static final double FLOP_PER_STEP;

  static {
    double xw = 2.0 * BATCH * INPUT * 4 * HIDDEN;
    double hw = 2.0 * BATCH * HIDDEN * 4 * HIDDEN;
    double head = 2.0 * BATCH * HIDDEN * CLASSES;
    double fwd = T * (xw + hw) + head;
    FLOP_PER_STEP = fwd + fwd + T * hw + head;
  }

  public final Graph graph = new Graph();
  public final Output x;
  public final Output labels;
  public final Output loss;
  public final Operation train;
  public final Operation init;
  public final Tensor xv = Tensor.of(AnchorData.normal(64, T * BATCH * INPUT, 1.0), T, BATCH, INPUT);
  public final Tensor labelsV = Tensor.of(AnchorData.labels(65, BATCH, CLASSES), BATCH);

  /** How DynamicRnn runs the steps: in a whileLoop (its default) or unrolled into the graph. */
  public enum Form { LOOP, UNROLLED }

  public final Form form;

  public W6Lstm() {
    this(Form.LOOP);
  }

  public W6Lstm(Form form) {
    this.form = form;
    Ops tf = Ops.create(graph);
    x = tf.placeholder("x", DType.FLOAT32, Shape.of(T, -1, INPUT));
    labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
    LstmCell cell = new LstmCell(INPUT, HIDDEN).withInitialWeights(
        Tensor.of(AnchorData.normal(61, INPUT * 4 * HIDDEN, Math.sqrt(1.0 / INPUT)), INPUT, 4 * HIDDEN),
        Tensor.of(AnchorData.normal(62, HIDDEN * 4 * HIDDEN, Math.sqrt(1.0 / HIDDEN)), HIDDEN, 4 * HIDDEN));
    DynamicRnn rnn = DynamicRnn.over(cell).timeMajor();
    Output h = (form == Form.UNROLLED ? rnn.unrolled() : rnn).run(tf, x).finalOutput();
    Variable wOut = tf.variable("w_out", tf.constant(Tensor.of(
        AnchorData.normal(63, HIDDEN * CLASSES, Math.sqrt(1.0 / HIDDEN)), HIDDEN, CLASSES)));
    Variable bOut = tf.variable("b_out", tf.constant(Tensor.of(new float[CLASSES], CLASSES)));
    Output logits = tf.add(tf.matmul(h, wOut), bOut);
    Output logp = tf.logSoftmax(logits, 1);
    Output picked = tf.reduceSum(tf.mul(tf.oneHot(labels, CLASSES), logp), new int[] {1}, false);
    loss = tf.withName("loss").neg(tf.reduceMean(picked));
    List<Output> params = new ArrayList<>(cell.trainableVariables());
    params.add(wOut);
    params.add(bOut);
    List<Output> grads = tf.gradients(loss, params);
    Output lr = tf.constant(0.01f);
    List<Operation> updates = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      updates.add(tf.assignSub(params.get(i), tf.mul(lr, grads.get(i))).op());
    }
    train = tf.withName("train").group(updates.toArray(Operation[]::new));
    init = tf.globalVariablesInitializer();
  }

  public static void main(String[] args) {
    int iters = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Form form = args.length > 2 ? Form.valueOf(args[2].toUpperCase(Locale.ROOT)) : Form.LOOP;
    W6Lstm net = new W6Lstm(form);
    try (Session s = new Session(net.graph)) {
      s.run(net.init);
      StepTimes t = StepTimes.measure(warmup, iters, () -> s.runner().feed(net.x, net.xv)
          .feed(net.labels, net.labelsV).fetch(net.loss).addTarget(net.train).run().get(0).floatValue());
      double med = t.medianMs();
      double[] losses = t.losses();
      int last = losses.length - 1;
      System.out.printf(Locale.ROOT, "RESULT\tW6\tkiln%s\t%.4f\tms/step\tGFLOP/s=%.2f loss0=%.6g loss%d=%.6g loss%d=%.6g"
          + " min=%.4f iters=%d warmup=%d%n", form == Form.UNROLLED ? ":unrolled" : "", med,
          FLOP_PER_STEP / (med * 1e-3) / 1e9, losses[0], warmup, losses[warmup], last, losses[last], t.minMs(), iters,
          warmup);
    }
  }
}
