package dev.kiln.examples;

import dev.kiln.data.Dataset;
import dev.kiln.data.Mnist;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.nn.Initializer;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Losses;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.Reduction;
import dev.kiln.nn.Sequential;
import dev.kiln.runtime.Session;
import dev.kiln.spark.LocalCluster;
import dev.kiln.spark.SparkScorer;
import dev.kiln.spark.SparkTrainer;
import dev.kiln.spark.StepReport;
import dev.kiln.spark.TrainingResult;
import dev.kiln.train.Adam;
import dev.kiln.train.CheckpointException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The MnistClassifier's MLP (784 -> 256 -> ReLU -> 10, Adam lr 1e-3) trained data-parallel on Spark:
 * a cluster of {@code --workers} executor JVMs on this machine ({@code local-cluster}), one line per
 * step ({@code step <i> loss <value>}), then the held-out accuracy, scored on the executors. The global
 * batches are the digits in order, whatever the number of workers, so {@code --workers 1} and
 * {@code --workers 2} print the same losses (to float rounding of the gradient sums).
 *
 * <p>Run: {@code ./example SparkMnist --workers 2 --steps 50 --batch-size 64}
 */
public final class SparkMnist {
  private SparkMnist() {}

  /** The run's settings; the data are MnistClassifier's: the first 8,000 bundled digits, held out the next 2,000. */
  public record Options(int workers, int steps, int batchSize) {
    static Options parse(String[] args) {
      int workers = 2;
      int steps = 50;
      int batch = 64;
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : "";
        switch (args[i]) {
          case "--workers" -> workers = positive(args[i], value);
          case "--steps" -> steps = positive(args[i], value);
          case "--batch-size" -> batch = positive(args[i], value);
          default -> throw new IllegalArgumentException("SparkMnist: unknown option '" + args[i]
              + "'; options: --workers N --steps S --batch-size B");
        }
        i++;
      }
      return new Options(workers, steps, batch);
    }

    private static int positive(String option, String value) {
      try {
        int n = Integer.parseInt(value);
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException("SparkMnist: " + option + " takes a positive integer, got '" + value + "'");
    }
  }

  /** The losses per step and the held-out accuracy of the trained model. */
  public record Result(List<Double> losses, double accuracy, List<StepReport> steps) {}

  public static void main(String[] args) throws CheckpointException {
    Options o = Options.parse(args);
    SparkSession spark = LocalCluster.start("SparkMnist", o.workers(), 1024);
    try {
      spark.sparkContext().setLogLevel("WARN");
      run(o, spark, System.out);
    } finally {
      spark.stop();
    }
  }

  /** Trains and evaluates on {@code spark}, printing each step and the accuracy to {@code out}. */
  public static Result run(Options o, SparkSession spark, PrintStream out) throws CheckpointException {
    MnistClassifier.Config c = MnistClassifier.Config.defaults();
    Dataset all = Mnist.load();
    Dataset train = all.slice(0, c.trainSize());
    Dataset heldOut = all.slice(c.trainSize(), c.trainSize() + c.testSize());

    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));
    Output y = tf.placeholder("y", DType.INT32, Shape.of(-1));
    Sequential model = Sequential.of(
        new Linear(784, c.hidden()).withInitializer(Initializer.HE_UNIFORM).withSeed(c.seed()),
        new ReLU(),
        new Linear(c.hidden(), 10).withSeed(c.seed() + 1));
    Output standardized = tf.div(tf.sub(x, tf.constant(0.1307f)), tf.constant(0.3081f));
    Output logits = model.apply(tf, standardized);
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, logits, y, Reduction.MEAN);
    out.printf(Locale.ROOT, "MNIST on Spark: %d workers, %d steps, global batch %d, MLP 784-%d-10, Adam lr %s%n",
        o.workers(), o.steps(), o.batchSize(), c.hidden(), c.learningRate());

    TrainingResult r = SparkTrainer.builder(g, loss, new Adam(c.learningRate()))
        .feed("x", "features").feed("y", "label")
        .globalBatchSize(o.batchSize()).steps(o.steps()).workers(o.workers())
        .onStep(s -> out.printf(Locale.ROOT, "step %d loss %.7f%n", s.step(), s.loss()))
        .build()
        .fit(spark.createDataFrame(rows(train), SCHEMA));

    double accuracy;
    try (Session s = new Session(g)) {
      r.restoreInto(s);
      List<Row> scored = SparkScorer.of(spark, s, "x", logits.name()).withBatchSize(500)
          .transform(spark.createDataFrame(rows(heldOut), SCHEMA), "features", "logits").collectAsList();
      int right = 0;
      for (Row row : scored) {
        List<Float> scores = row.getList(2);
        int best = 0;
        for (int k = 1; k < scores.size(); k++) {
          if (scores.get(k) > scores.get(best)) {
            best = k;
          }
        }
        right += best == row.getInt(1) ? 1 : 0;
      }
      accuracy = (double) right / scored.size();
    }
    List<StepReport> steady = r.steps().subList(Math.min(2, r.steps().size() - 1), r.steps().size());
    double millis = steady.stream().mapToDouble(StepReport::millis).average().orElse(0);
    double comm = steady.stream().mapToDouble(StepReport::communicationMillis).average().orElse(0);
    out.printf(Locale.ROOT, "held-out accuracy %.2f%% (%d digits)%n", 100 * accuracy, heldOut.size());
    out.printf(Locale.ROOT, "after the first 2 steps: %.1f ms/step, %.0f examples/s, gradient exchange %.1f ms/step"
        + " (%.0f%%)%n", millis, o.batchSize() * 1000 / millis, comm, 100 * comm / millis);
    return new Result(r.losses(), accuracy, r.steps());
  }

  private static final StructType SCHEMA = new StructType()
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("label", DataTypes.IntegerType, false);

  private static List<Row> rows(Dataset d) {
    List<Row> rows = new ArrayList<>(d.size());
    int n = d.featureSize();
    for (int i = 0; i < d.size(); i++) {
      float[] f = new float[n];
      System.arraycopy(d.features(), i * n, f, 0, n);
      rows.add(RowFactory.create(f, d.labels()[i]));
    }
    return rows;
  }
}
