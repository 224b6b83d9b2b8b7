package dev.kiln.examples;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.nn.DynamicRnn;
import dev.kiln.nn.Linear;
import dev.kiln.nn.LstmCell;
import dev.kiln.nn.Losses;
import dev.kiln.nn.Reduction;
import dev.kiln.runtime.Session;
import dev.kiln.train.Adam;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Random;

/**
 * The adding problem (Hochreiter and Schmidhuber): each sequence holds random values in [0, 1) and
 * two marked positions, and the target is the sum of the two marked values. Each example has its own
 * length, drawn between {@code minLength} and {@code maxLength}; one mark falls in its first half and
 * one in its second. An LSTM runs over the sequences through {@link DynamicRnn} with the per-example
 * lengths (its final state is the state at each example's own last step); each batch is padded only to
 * its own longest sequence, so the number of steps is known only when the graph runs and the steps run
 * in a {@code whileLoop}. A linear head on the final h predicts the sum. Always predicting 1.0 (the
 * mean target) scores a mean squared error of about 1/6 = 0.167; the example trains on fresh batches until the held-out error is below
 * {@code target} or {@code maxSteps} steps have run.
 *
 * <p>Run: {@code ./example AddingProblem}.
 */
public final class AddingProblem {
  private AddingProblem() {}

  /** What to train. */
  public record Config(int minLength, int maxLength, int hidden, int batchSize, int maxSteps, int evalEvery,
      int heldOut, double learningRate, double target, long seed) {
    /** Lengths 10..50, 64 hidden units, batch 64, Adam 1e-2 (decaying), until held-out MSE < 0.005 or 4,000 steps. */
    public static Config defaults() {
      return new Config(10, 50, 64, 64, 4_000, 100, 2_000, 1e-2, 0.005, 42);
    }
  }

  /** The held-out MSE, the baseline's (always 1.0) on the same data, steps run, timing. */
  public record Result(double heldOutMse, double baselineMse, int steps, double seconds) {}

  /**
   * A batch of sequences [n, T, 2] (channel 0 the value, channel 1 the mark; zero past each example's
   * length), T the batch's longest length; their lengths [n] and targets [n, 1].
   */
  public record Batch(Tensor sequences, Tensor lengths, Tensor targets) {
    public static Batch generate(int n, int minLength, int maxLength, Random rnd) {
      if (minLength < 2 || maxLength < minLength) {
        throw new IllegalArgumentException("AddingProblem: lengths must satisfy 2 <= min <= max, got " + minLength
            + ".." + maxLength);
      }
      int[] len = new int[n];
      int longest = 0;
      for (int i = 0; i < n; i++) {
        len[i] = minLength + rnd.nextInt(maxLength - minLength + 1);
        longest = Math.max(longest, len[i]);
      }
      float[] x = new float[n * longest * 2];
      float[] y = new float[n];
      for (int i = 0; i < n; i++) {
        int l = len[i];
        for (int t = 0; t < l; t++) {
          x[(i * longest + t) * 2] = rnd.nextFloat();
        }
        int half = l / 2;
        int a = rnd.nextInt(half);
        int b = half + rnd.nextInt(l - half);
        x[(i * longest + a) * 2 + 1] = 1;
        x[(i * longest + b) * 2 + 1] = 1;
        y[i] = x[(i * longest + a) * 2] + x[(i * longest + b) * 2];
      }
      return new Batch(Tensor.of(x, n, longest, 2), Tensor.of(len, n), Tensor.of(y, n, 1));
    }
  }

  public static void main(String[] args) {
    Result r = run(Config.defaults(), System.out);
    System.out.printf(Locale.ROOT, "summary: held-out MSE %.5f (baseline %.4f), %d steps, %.1f s%n", r.heldOutMse(),
        r.baselineMse(), r.steps(), r.seconds());
  }

  public static Result run(Config c, PrintStream out) {
    long start = System.nanoTime();
    out.printf(Locale.ROOT, "adding problem: lengths %d..%d, LSTM %d hidden through DynamicRnn with per-example"
        + " lengths, batch %d, Adam lr %s%n", c.minLength(), c.maxLength(), c.hidden(), c.batchSize(),
        c.learningRate());
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    // The time axis is unknown when the graph is built: each batch is as long as its longest
    // sequence, and DynamicRnn runs the steps in a whileLoop.
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, -1, 2));
    Output lengths = tf.placeholder("lengths", DType.INT32, Shape.of(-1));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 1));
    LstmCell cell = new LstmCell(2, c.hidden()).withSeed(c.seed());
    Output h = DynamicRnn.over(cell).withLengths(lengths).run(tf, x).finalOutput();
    Output prediction = new Linear(c.hidden(), 1).withSeed(c.seed() + 1).apply(tf, h);
    Output loss = Losses.meanSquaredError(tf, prediction, y, Reduction.MEAN);
    Output lr = tf.placeholder("learning_rate", DType.FLOAT32, Shape.scalar());
    Operation trainStep = new Adam(lr).minimize(loss);

    Random rnd = new Random(c.seed());
    Batch heldOut = Batch.generate(c.heldOut(), c.minLength(), c.maxLength(), new Random(c.seed() + 1000));
    double baseline = 0;
    for (float t : heldOut.targets().toFloatArray()) {
      baseline += (t - 1.0) * (t - 1.0) / c.heldOut();
    }
    double mse = Double.NaN;
    int steps = 0;
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double rate = c.learningRate();
      double sum = 0;
      while (steps < c.maxSteps()) {
        Batch b = Batch.generate(c.batchSize(), c.minLength(), c.maxLength(), rnd);
        sum += s.runner().feed(x, b.sequences()).feed(lengths, b.lengths()).feed(y, b.targets())
            .feed(lr, Tensor.scalar((float) rate)).fetch(loss).addTarget(trainStep).run().getFirst().floatValue();
        steps++;
        if (steps % c.evalEvery() == 0) {
          mse = evaluate(s, x, lengths, y, loss, heldOut);
          out.printf(Locale.ROOT, "step %d: training MSE %.5f, held-out MSE %.5f (%.1f s)%n", steps,
              sum / c.evalEvery(), mse, (System.nanoTime() - start) / 1e9);
          sum = 0;
          if (mse < c.target()) {
            break;
          }
          // A smaller step once the network has found the marks settles it on the sum.
          if (mse < 0.05) {
            rate = Math.max(c.learningRate() / 10, rate * 0.8);
          }
        }
      }
      if (steps % c.evalEvery() != 0) {
        mse = evaluate(s, x, lengths, y, loss, heldOut);
      }
    }
    out.printf(Locale.ROOT, "held-out MSE: %.5f (baseline, always predicting 1.0: %.4f)%n", mse, baseline);
    return new Result(mse, baseline, steps, (System.nanoTime() - start) / 1e9);
  }

  private static double evaluate(Session s, Output x, Output lengths, Output y, Output loss, Batch data) {
    return s.runner().feed(x, data.sequences()).feed(lengths, data.lengths()).feed(y, data.targets()).fetch(loss)
        .run().getFirst().floatValue();
  }
}
