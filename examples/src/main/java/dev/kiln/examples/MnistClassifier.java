package dev.kiln.examples;

import com.google.common.io.MoreFiles;
import com.google.common.io.RecursiveDeleteOption;
import dev.kiln.data.Batch;
import dev.kiln.data.Dataset;
import dev.kiln.data.MiniBatches;
import dev.kiln.data.Mnist;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.nn.Initializer;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Losses;
import dev.kiln.nn.Metrics;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.Reduction;
import dev.kiln.nn.Sequential;
import dev.kiln.runtime.Session;
import dev.kiln.train.Adam;
import dev.kiln.train.Saver;
import dev.kiln.train.TrainingProgress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The main example: a multilayer perceptron (784 -> 256 -> ReLU -> 10) trained on 8,000 real MNIST
 * digits with softmax cross-entropy and Adam, evaluated on 2,000 held-out digits, then checkpointed and
 * restored into a fresh Session that must give the same accuracy.
 *
 * <p>Run: {@code ./example MnistClassifier [checkpoint-path]} (default checkpoint: a file in a temporary
 * folder, deleted at the end).
 */
public final class MnistClassifier {
  private MnistClassifier() {}

  /** What to train: the first {@code trainSize} bundled digits, held-out the next {@code testSize}. */
  public record Config(int trainSize, int testSize, int hidden, int epochs, int batchSize, double learningRate,
      long seed) {
    public Config {
      if (epochs < 1) {
        throw new IllegalArgumentException("MnistClassifier: epochs must be at least 1, got " + epochs);
      }
    }

    /** The example's defaults: 8,000 / 2,000 digits, 256 hidden units, 10 epochs, batch 64, Adam lr 1e-3. */
    public static Config defaults() {
      return new Config(8_000, 2_000, 256, 10, 64, 1e-3, 1234);
    }
  }

  /**
   * The outcome: mean training loss per epoch, held-out accuracy after training and after restoring the
   * checkpoint into a fresh Session, training steps and wall time per step; the seconds each epoch took
   * (its steps and its held-out evaluation) and the whole run's.
   */
  public record Result(List<Double> epochLosses, double accuracy, double restoredAccuracy, int steps,
      double millisPerStep, List<Double> epochSeconds, double totalSeconds) {
    public Result {
      epochLosses = List.copyOf(epochLosses);
      epochSeconds = List.copyOf(epochSeconds);
    }

    public double finalLoss() {
      return epochLosses.getLast();
    }

    /** From the first step to the end of the last evaluation: the epochs' seconds together. */
    public double trainingSeconds() {
      return epochSeconds.stream().mapToDouble(Double::doubleValue).sum();
    }

    /** The median of the epochs after the first (the first epoch's when there is only one). */
    public double laterEpochsMedianSeconds() {
      List<Double> later = epochSeconds.size() > 1 ? epochSeconds.subList(1, epochSeconds.size()) : epochSeconds;
      double[] sorted = later.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      int n = sorted.length;
      return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
  }

  public static void main(String[] args) throws IOException {
    Result r = args.length > 0 ? run(Config.defaults(), Path.of(args[0]), System.out)
        : runWithTemporaryCheckpoint(Config.defaults(), Path.of(System.getProperty("java.io.tmpdir")), System.out);
    System.out.printf(Locale.ROOT, "summary: final loss %.4f, held-out accuracy %.2f%%, %d steps, %.2f ms/step,"
        + " total %.1f s%n", r.finalLoss(), 100 * r.accuracy(), r.steps(), r.millisPerStep(), r.totalSeconds());
  }

  /**
   * {@link #run} with the checkpoint in a new folder under {@code parent}, deleted afterwards (also when
   * the run fails), so that runs without a named checkpoint leave nothing behind.
   */
  public static Result runWithTemporaryCheckpoint(Config c, Path parent, PrintStream out) throws IOException {
    try (TemporaryFolder folder = new TemporaryFolder(Files.createTempDirectory(parent, "kiln-mnist"))) {
      Result r = run(c, folder.dir().resolve("mnist-classifier.ckpt"), out);
      out.println("(the checkpoint's temporary folder is deleted now; to keep the checkpoint, name a path:"
          + " ./example MnistClassifier PATH)");
      return r;
    }
  }

  /** A folder deleted with everything in it on close (try-with-resources keeps a run's own failure first). */
  private record TemporaryFolder(Path dir) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      MoreFiles.deleteRecursively(dir, RecursiveDeleteOption.ALLOW_INSECURE);
    }
  }

  /** Trains, evaluates, saves to {@code checkpoint}, restores into a fresh Session, evaluates again. */
  public static Result run(Config c, Path checkpoint, PrintStream out) throws IOException {
    long start = System.nanoTime();
    Dataset all = Mnist.load();
    if (c.trainSize() + c.testSize() > all.size()) {
      throw new IllegalArgumentException("MnistClassifier: " + c.trainSize() + " + " + c.testSize()
          + " digits requested, " + all.size() + " bundled");
    }
    Dataset train = all.slice(0, c.trainSize());
    Dataset heldOut = all.slice(c.trainSize(), c.trainSize() + c.testSize());
    out.printf(Locale.ROOT, "MNIST: %d training and %d held-out digits; MLP 784-%d-10, Adam lr %s, batch %d%n",
        train.size(), heldOut.size(), c.hidden(), c.learningRate(), c.batchSize());

    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));
    Output y = tf.placeholder("y", DType.INT32, Shape.of(-1));
    Sequential model = Sequential.of(
        new Linear(784, c.hidden()).withInitializer(Initializer.HE_UNIFORM).withSeed(c.seed()),
        new ReLU(),
        new Linear(c.hidden(), 10).withSeed(c.seed() + 1));
    // the usual MNIST standardization (PyTorch's Normalize((0.1307,), (0.3081,))) speeds up early training
    Output standardized = tf.div(tf.sub(x, tf.constant(0.1307f)), tf.constant(0.3081f));
    Output logits = model.apply(tf, standardized);
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, logits, y, Reduction.MEAN);
    Output accuracy = Metrics.accuracy(tf, logits, y);
    Operation trainStep = new Adam(c.learningRate()).minimize(loss);
    Operation init = tf.globalVariablesInitializer();

    List<Double> epochLosses = new ArrayList<>();
    List<Double> epochSeconds = new ArrayList<>();
    double acc = Double.NaN;
    long trainNanos = 0;
    int steps = 0;
    MiniBatches batches = train.batches(c.batchSize(), c.seed());
    try (Session session = new Session(g)) {
      session.run(init);
      for (int epoch = 1; epoch <= c.epochs(); epoch++) {
        long t0 = System.nanoTime();
        double sum = 0;
        // one bar per epoch, closed before the epoch's line is printed so that the two do not interleave
        try (TrainingProgress progress =
            TrainingProgress.start("epoch " + epoch + "/" + c.epochs(), batches.batchesPerEpoch())) {
          for (Batch b : batches) {
            float l = session.runner().feed(x, b.features()).feed(y, b.labels()).fetch(loss).addTarget(trainStep)
                .run().getFirst().floatValue();
            sum += l * b.size();
            steps++;
            progress.step(l);
          }
        }
        long t1 = System.nanoTime();
        trainNanos += t1 - t0;
        epochLosses.add(sum / train.size());
        acc = evaluate(session, x, y, accuracy, heldOut);
        // an epoch's time includes its held-out evaluation: it is part of what the user waits for
        double seconds = (System.nanoTime() - t0) / 1e9;
        epochSeconds.add(seconds);
        out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, held-out accuracy %.2f%% (%.2f s)%n", epoch, c.epochs(),
            sum / train.size(), 100 * acc, seconds);
      }
      Saver.save(session, checkpoint);
    }
    out.printf(Locale.ROOT, "held-out accuracy: %.2f%%%n", 100 * acc);

    double restored;
    try (Session fresh = new Session(g)) {
      Saver.restore(fresh, checkpoint);
      restored = evaluate(fresh, x, y, accuracy, heldOut);
    }
    out.printf(Locale.ROOT, "checkpoint %s (%d bytes) restored into a fresh Session: held-out accuracy %.2f%%%n",
        checkpoint, Files.size(checkpoint), 100 * restored);
    Result r = new Result(epochLosses, acc, restored, steps, trainNanos / 1e6 / Math.max(1, steps), epochSeconds,
        (System.nanoTime() - start) / 1e9);
    out.printf(Locale.ROOT, "training time: %.2f s (first epoch %.2f s, later epochs median %.2f s)%n",
        r.trainingSeconds(), r.epochSeconds().getFirst(), r.laterEpochsMedianSeconds());
    return r;
  }

  private static double evaluate(Session s, Output x, Output y, Output accuracy, Dataset data) {
    Tensor a = s.runner().feed(x, data.featureTensor()).feed(y, data.labelTensor()).fetch(accuracy).run().getFirst();
    return a.floatValue();
  }
}
