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
import dev.kiln.nn.Conv2D;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.Initializer;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Losses;
import dev.kiln.nn.MaxPool2D;
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
import java.util.Random;

/**
 * A small convolutional network on the bundled MNIST digits: conv 5x5x32 + ReLU, max-pool 2x2, conv
 * 5x5x64 + ReLU, max-pool 2x2, dense 128 + ReLU, dense 10; softmax cross-entropy and Adam on the first
 * 8,000 digits, each shown shifted by up to a pixel in each direction (8,000 digits are few enough that
 * the network otherwise learns them by heart), held-out accuracy on the next 2,000, then checkpointed
 * and restored into a fresh Session that must give the same accuracy (as {@link MnistClassifier}).
 *
 * <p>Run: {@code ./example MnistCnn [checkpoint-path]}.
 */
public final class MnistCnn {
  private MnistCnn() {}

  /** The learning rate's factor from one epoch to the next. */
  static final double LR_DECAY = 0.75;

  /** What to train: the first {@code trainSize} digits, held-out the next {@code testSize}. */
  public record Config(int trainSize, int testSize, int filters, int hidden, int epochs, int batchSize,
      double learningRate, int maxShift, long seed) {
    /**
     * The example's defaults: 8,000 / 2,000 digits, 32 and 64 filters, 128 hidden, 15 epochs, batch 64,
     * Adam 1e-3 decaying by {@link #LR_DECAY} per epoch, shifts of up to 1 pixel.
     */
    public static Config defaults() {
      return new Config(8_000, 2_000, 32, 128, 15, 64, 1e-3, 1, 1234);
    }
  }

  /** Mean training loss per epoch, held-out accuracy before and after the checkpoint round trip, steps, timing. */
  public record Result(List<Double> epochLosses, double accuracy, double restoredAccuracy, int steps,
      double millisPerStep, double totalSeconds) {
    public double finalLoss() {
      return epochLosses.getLast();
    }
  }

  public static void main(String[] args) throws IOException {
    Config c = Config.defaults();
    Result r;
    if (args.length > 0) {
      r = run(c, Path.of(args[0]), System.out);
    } else {
      Path dir = Files.createTempDirectory("kiln-mnist-cnn");
      try {
        r = run(c, dir.resolve("mnist-cnn.ckpt"), System.out);
      } finally {
        MoreFiles.deleteRecursively(dir, RecursiveDeleteOption.ALLOW_INSECURE);
      }
    }
    System.out.printf(Locale.ROOT, "summary: final loss %.4f, held-out accuracy %.2f%%, %d steps, %.2f ms/step,"
        + " total %.1f s%n", r.finalLoss(), 100 * r.accuracy(), r.steps(), r.millisPerStep(), r.totalSeconds());
  }

  /** Trains, evaluates, saves to {@code checkpoint}, restores into a fresh Session, evaluates again. */
  public static Result run(Config c, Path checkpoint, PrintStream out) throws IOException {
    long start = System.nanoTime();
    Dataset all = Mnist.load();
    if (c.trainSize() + c.testSize() > all.size()) {
      throw new IllegalArgumentException("MnistCnn: " + c.trainSize() + " + " + c.testSize() + " digits requested, "
          + all.size() + " bundled");
    }
    Dataset train = all.slice(0, c.trainSize());
    Dataset heldOut = all.slice(c.trainSize(), c.trainSize() + c.testSize());
    int f1 = c.filters();
    int f2 = 2 * c.filters();
    out.printf(Locale.ROOT, "MNIST: %d training and %d held-out digits; CNN conv5x5x%d-pool-conv5x5x%d-pool-%d-10,"
        + " Adam lr %s (x%s per epoch), batch %d, shifts up to %d pixels%n", train.size(), heldOut.size(), f1, f2, c.hidden(),
        c.learningRate(), LR_DECAY, c.batchSize(), c.maxShift());

    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));
    Output y = tf.placeholder("y", DType.INT32, Shape.of(-1));
    Sequential model = Sequential.of(
        new Conv2D(1, f1, 5).withInitializer(Initializer.HE_UNIFORM).withSeed(c.seed()),
        new ReLU(),
        new MaxPool2D(2),
        new Conv2D(f1, f2, 5).withInitializer(Initializer.HE_UNIFORM).withSeed(c.seed() + 1),
        new ReLU(),
        new MaxPool2D(2),
        new Flatten(),
        new Linear(7 * 7 * f2, c.hidden()).withInitializer(Initializer.HE_UNIFORM).withSeed(c.seed() + 2),
        new ReLU(),
        new Linear(c.hidden(), 10).withSeed(c.seed() + 3));
    Output images = tf.reshape(tf.div(tf.sub(x, tf.constant(0.1307f)), tf.constant(0.3081f)), -1, 28, 28, 1);
    Output logits = model.apply(tf, images);
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, logits, y, Reduction.MEAN);
    Output accuracy = Metrics.accuracy(tf, logits, y);
    // The learning rate is fed: it decays by LR_DECAY per epoch, which settles the noisy late epochs.
    Output lr = tf.placeholder("learning_rate", DType.FLOAT32, Shape.scalar());
    Operation trainStep = new Adam(lr).minimize(loss);
    Operation init = tf.globalVariablesInitializer();

    List<Double> epochLosses = new ArrayList<>();
    double acc;
    long trainNanos = 0;
    int steps = 0;
    MiniBatches batches = train.batches(c.batchSize(), c.seed());
    Random shifts = new Random(c.seed());
    try (Session session = new Session(g)) {
      session.run(init);
      for (int epoch = 1; epoch <= c.epochs(); epoch++) {
        long t0 = System.nanoTime();
        double sum = 0;
        float rate = (float) (c.learningRate() * Math.pow(LR_DECAY, epoch - 1));
        try (TrainingProgress progress =
            TrainingProgress.start("epoch " + epoch + "/" + c.epochs(), batches.batchesPerEpoch())) {
          for (Batch b : batches) {
            Tensor features = shifted(b.features(), c.maxShift(), shifts);
            float l = session.runner().feed(x, features).feed(y, b.labels()).feed(lr, Tensor.scalar(rate))
                .fetch(loss).addTarget(trainStep)
                .run().getFirst().floatValue();
            sum += l * b.size();
            steps++;
            progress.step(l);
          }
        }
        long t1 = System.nanoTime();
        trainNanos += t1 - t0;
        epochLosses.add(sum / train.size());
        out.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, held-out accuracy %.2f%% (%.1f s)%n", epoch, c.epochs(),
            sum / train.size(), 100 * evaluate(session, x, y, accuracy, heldOut), (t1 - t0) / 1e9);
      }
      acc = evaluate(session, x, y, accuracy, heldOut);
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
    return new Result(List.copyOf(epochLosses), acc, restored, steps, trainNanos / 1e6 / Math.max(1, steps),
        (System.nanoTime() - start) / 1e9);
  }

  /** Each 28x28 image of {@code batch} [n, 784] moved by up to {@code max} pixels in each direction, zeros filling in. */
  static Tensor shifted(Tensor batch, int max, Random rnd) {
    if (max == 0) {
      return batch;
    }
    float[] in = batch.toFloatArray();
    float[] out = new float[in.length];
    for (int img = 0; img < in.length / 784; img++) {
      int dy = rnd.nextInt(2 * max + 1) - max;
      int dx = rnd.nextInt(2 * max + 1) - max;
      for (int r = Math.max(0, dy); r < Math.min(28, 28 + dy); r++) {
        int from = Math.max(0, dx);
        int to = Math.min(28, 28 + dx);
        System.arraycopy(in, img * 784 + (r - dy) * 28 + from - dx, out, img * 784 + r * 28 + from, to - from);
      }
    }
    return Tensor.of(out, batch.shape().dims());
  }

  /** Accuracy over {@code data} in batches of 500 (the activations of 2,000 digits at once would be large). */
  private static double evaluate(Session s, Output x, Output y, Output accuracy, Dataset data) {
    double correct = 0;
    for (int from = 0; from < data.size(); from += 500) {
      Dataset part = data.slice(from, Math.min(data.size(), from + 500));
      Tensor a = s.runner().feed(x, part.featureTensor()).feed(y, part.labelTensor()).fetch(accuracy).run().getFirst();
      correct += a.floatValue() * part.size();
    }
    return correct / data.size();
  }
}
