package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Output;
import dev.kiln.nn.Reduction;
import dev.kiln.train.Optimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import scala.reflect.ClassTag$;

/**
 * Trains a Kiln graph data-parallel on Spark with synchronous mini-batch SGD: every step, each of
 * {@code N} workers computes the gradients of its part of the global batch in a local {@link
 * dev.kiln.runtime.Session}; the gradients are summed across workers by a reduce-scatter (worker
 * {@code j} sums slice {@code j} of the parameter vector over all workers) and an all-gather (every worker
 * fetches every summed slice), executor to executor through Spark's block manager; every worker then
 * applies the same optimizer update. The model after each step is the one single-process training
 * computes on the same global batch, up to the order of the gradient sums.
 *
 * <pre>{@code
 * TrainingResult r = SparkTrainer.builder(graph, loss, new Adam(1e-3))
 *     .feed("x", "features").feed("y", "label")
 *     .globalBatchSize(64).steps(1000).workers(8)
 *     .checkpointEvery(100, Path.of("/shared/ckpt"))
 *     .build()
 *     .fit(dataset);
 * }</pre>
 *
 * <p>The graph travels to executors as Kiln's text format and variables as checkpoint bytes. Each step is
 * a barrier stage, so its {@code N} tasks run together; a failed task makes Spark re-run the stage, and
 * since a worker's replica only advances by completed steps, the re-run computes the same step. Every
 * {@code checkpointEvery} steps the state becomes the recovery point (and a file {@code
 * step-<k>.ckpt} when a folder is given); {@link Builder#resume()} continues from the newest file.
 */
public final class SparkTrainer {
  private final Config config;

  private SparkTrainer(Config config) {
    this.config = config;
  }

  public static Builder builder(Graph graph, Output loss, Optimizer optimizer) {
    return new Builder(graph, loss, optimizer);
  }

  /** Trains on {@code data}, whose columns the feeds name; rows are taken in the Dataset's order. */
  public TrainingResult fit(Dataset<Row> data) {
    Column[] columns = config.feeds().stream().map(f -> functions.col(f.column())).toArray(Column[]::new);
    return fit(data.select(columns).javaRDD());
  }

  /** Trains on {@code rows}, each holding one value per feed, in the feeds' order. */
  public TrainingResult fit(JavaRDD<Row> rows) {
    TrainingGraph.Built built = TrainingGraph.build(config.graph(), config.loss(), config.optimizer(),
        config.feeds(), config.reduction());
    StepProgram program = built.program();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.context());
    int workers = config.workers().orElse(jsc.defaultParallelism());
    int batch = config.globalBatchSize();
    if (batch < workers) {
      throw new IllegalArgumentException("SparkTrainer: global batch of " + batch + " is smaller than the "
          + workers + " workers");
    }
    int perEpoch = Shards.batchesPerEpoch(rows.count(), batch);
    long total = config.steps() > 0 ? config.steps() : (long) config.epochs() * perEpoch;
    Checkpoints files = new Checkpoints(config.checkpointDir());
    long start = 0;
    byte[] state = built.initialCheckpoint();
    if (config.resume()) {
      Optional<Checkpoints.Found> found = files.newest(program);
      if (found.isPresent()) {
        start = found.get().step();
        state = found.get().bytes();
      }
    }
    if (start > total) {
      throw new IllegalArgumentException("SparkTrainer: the newest checkpoint in " + config.checkpointDir().orElseThrow()
          + " is of step " + start + ", past the " + total + " steps to train");
    }
    String run = UUID.randomUUID().toString().replace("-", "");
    JavaRDD<Shard> shards = Shards.build(rows, program.feeds(), batch, workers, perEpoch);
    Broadcast<byte[]> stateBroadcast = jsc.broadcast(state);
    Recovery recovery = new Recovery(start, stateBroadcast);
    List<StepReport> reports = new ArrayList<>();
    try {
      for (long k = start + 1; k <= total; k++) {
        long checkpointStep = k - 1 > recovery.step() && (k - 1) % config.checkpointEvery() == 0 ? k - 1 : -1;
        StepTask task = new StepTask(program, run, k, workers, batch, recovery, checkpointStep, config.failOnce());
        long t0 = System.nanoTime();
        // the shuffle after the barrier stage makes it a map stage, which Spark re-runs when a task fails
        // (a failed barrier result stage fails the job)
        List<StepResult> results = new ArrayList<>(shards.rdd().barrier()
            .mapPartitions(task, false, ClassTag$.MODULE$.apply(StepResult.class)).toJavaRDD().repartition(1)
            .collect());
        long t1 = System.nanoTime();
        results.sort(Comparator.comparingInt(StepResult::worker));
        if (checkpointStep >= 0) {
          byte[] bytes = results.getFirst().checkpoint();
          files.write(checkpointStep, bytes);
          recovery.checkpoint().destroy(false);
          recovery = new Recovery(checkpointStep, jsc.broadcast(bytes));
        }
        StepReport report = StepReport.of(k, batch, (t1 - t0) / 1e6, results);
        reports.add(report);
        config.onStep().accept(report);
      }
      final long last = total;
      final Recovery finalRecovery = recovery;
      byte[] trained = shards.mapPartitions(new FinishTask(program, run, last, workers, finalRecovery))
          .collect().getFirst();
      if (total > start && total % config.checkpointEvery() == 0) {
        files.write(total, trained);
      }
      return new TrainingResult(reports, trained, program.graphText());
    } finally {
      shards.foreachPartition(new CleanupTask(run));
      recovery.checkpoint().destroy(false);
      shards.unpersist(false);
    }
  }

  record Config(Graph graph, Output loss, Optimizer optimizer, List<Feed> feeds, int globalBatchSize, long steps,
      int epochs, Optional<Integer> workers, Reduction reduction, int checkpointEvery, Optional<Path> checkpointDir,
      boolean resume, Consumer<StepReport> onStep, FailOnce failOnce) {}

  /** Settings of a {@link SparkTrainer}; {@link #globalBatchSize} and {@link #steps} or {@link #epochs} are required. */
  public static final class Builder {
    private final Graph graph;
    private final Output loss;
    private final Optimizer optimizer;
    private final List<Feed> feeds = new ArrayList<>();
    private int globalBatchSize;
    private long steps;
    private int epochs;
    private Optional<Integer> workers = Optional.empty();
    private Reduction reduction = Reduction.MEAN;
    private int checkpointEvery = 10;
    private Optional<Path> checkpointDir = Optional.empty();
    private boolean resume;
    private Consumer<StepReport> onStep = r -> {};
    private FailOnce failOnce = FailOnce.NONE;

    private Builder(Graph graph, Output loss, Optimizer optimizer) {
      this.graph = Objects.requireNonNull(graph, "SparkTrainer: graph is null");
      this.loss = Objects.requireNonNull(loss, "SparkTrainer: loss is null");
      this.optimizer = Objects.requireNonNull(optimizer, "SparkTrainer: optimizer is null");
    }

    /** Feeds placeholder {@code placeholder} from column {@code column} (a number or an array of numbers). */
    public Builder feed(String placeholder, String column) {
      feeds.add(Feed.of(placeholder, column));
      return this;
    }

    /** Examples per step, summed over the workers. */
    public Builder globalBatchSize(int size) {
      this.globalBatchSize = positive("globalBatchSize", size);
      return this;
    }

    /** The step to train up to, counted from the start of training (a resumed run goes on to it). */
    public Builder steps(long steps) {
      this.steps = positive("steps", steps);
      return this;
    }

    /** Trains for {@code epochs} passes over the examples (each leaves out a last, partial batch). */
    public Builder epochs(int epochs) {
      this.epochs = positive("epochs", epochs);
      return this;
    }

    /** Workers (tasks per step, all running at once); default: Spark's default parallelism. */
    public Builder workers(int workers) {
      this.workers = Optional.of(positive("workers", workers));
      return this;
    }

    /** How the loss reduces over examples: MEAN (the default: each worker's gradient is weighted by its share) or SUM. */
    public Builder lossReduction(Reduction reduction) {
      if (reduction == Reduction.NONE) {
        throw new IllegalArgumentException("SparkTrainer: the loss must be a scalar reduced by MEAN or SUM");
      }
      this.reduction = Objects.requireNonNull(reduction, "SparkTrainer: reduction is null");
      return this;
    }

    /** Takes a recovery point every {@code steps} steps (default 10), kept in memory. */
    public Builder checkpointEvery(int steps) {
      this.checkpointEvery = positive("checkpointEvery", steps);
      return this;
    }

    /** As {@link #checkpointEvery(int)}, also writing each as {@code dir/step-<k>.ckpt} (a Saver checkpoint). */
    public Builder checkpointEvery(int steps, Path dir) {
      checkpointEvery(steps);
      this.checkpointDir = Optional.of(Objects.requireNonNull(dir, "SparkTrainer: checkpoint folder is null"));
      return this;
    }

    /** Starts from the newest checkpoint in the checkpoint folder, if there is one. */
    public Builder resume() {
      this.resume = true;
      return this;
    }

    /** Called on the driver after each step. */
    public Builder onStep(Consumer<StepReport> listener) {
      this.onStep = Objects.requireNonNull(listener, "SparkTrainer: listener is null");
      return this;
    }

    /** Makes one task fail on purpose in its first attempt (tests of Spark's retry). */
    Builder failOnce(long step, int worker) {
      this.failOnce = new FailOnce(step, worker);
      return this;
    }

    public SparkTrainer build() {
      if (feeds.isEmpty()) {
        throw new IllegalStateException("SparkTrainer: no feeds; name the placeholders the examples feed");
      }
      if (globalBatchSize == 0) {
        throw new IllegalStateException("SparkTrainer: globalBatchSize is not set");
      }
      if ((steps == 0) == (epochs == 0)) {
        throw new IllegalStateException("SparkTrainer: set exactly one of steps and epochs");
      }
      if (resume && checkpointDir.isEmpty()) {
        throw new IllegalStateException("SparkTrainer: resume() needs a checkpoint folder (checkpointEvery(n, dir))");
      }
      return new SparkTrainer(new Config(graph, loss, optimizer, List.copyOf(feeds), globalBatchSize, steps, epochs,
          workers, reduction, checkpointEvery, checkpointDir, resume, onStep, failOnce));
    }

    private static <N extends Number> N positive(String what, N n) {
      if (n.longValue() < 1) {
        throw new IllegalArgumentException("SparkTrainer: " + what + " must be at least 1, got " + n);
      }
      return n;
    }
  }

}
