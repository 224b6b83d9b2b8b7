package dev.kiln.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import dev.kiln.train.GradientDescent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data-parallel training in local mode (two task slots in one JVM, four attempts per task). */
class SparkTrainerTest {
  private static final int BATCH = 30;
  private static final int STEPS = 20;
  private static SparkSession spark;
  private static final AtomicInteger failedTasks = new AtomicInteger();

  @TempDir Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().config(LocalCluster.loopback(new SparkConf()).setMaster("local[2,4]")
        .setAppName("SparkTrainerTest")).getOrCreate();
    spark.sparkContext().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.reason() != Success$.MODULE$) {
          failedTasks.incrementAndGet();
        }
      }
    });
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static SmallModel.Examples data() {
    return SmallModel.Examples.random(200, 42); // 6 whole batches of 30 per epoch: 20 steps cross epochs
  }

  private static SparkTrainer.Builder trainer(SmallModel m, int workers) {
    return SparkTrainer.builder(m.graph(), m.loss(), SmallModel.optimizer())
        .feed("x", "features").feed("y", "label").globalBatchSize(BATCH).workers(workers);
  }

  static void assertClose(List<Double> expected, List<Double> actual, double relative) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      double e = expected.get(i);
      double a = actual.get(i);
      assertTrue(Math.abs(e - a) <= relative * Math.abs(e), "step " + (i + 1) + ": " + a + " vs single-process " + e);
    }
  }

  @Test
  void twoWorkersTrainAsOneProcessOnTheSameGlobalBatches() throws Exception {
    SmallModel.Examples data = data();
    Dataset<Row> ds = data.toDataset(spark);
    SmallModel distributed = SmallModel.build();
    TrainingResult r = trainer(distributed, 2).steps(STEPS).build().fit(ds);

    Session[] local = new Session[1];
    SmallModel reference = SmallModel.build();
    List<Double> expected = reference.trainLocally(data, BATCH, STEPS, local);
    assertTrue(expected.getLast() < 0.8 * expected.getFirst(), "training lowers the loss: " + expected);
    assertClose(expected, r.losses(), 1e-5);

    try (Session s = local[0]; Session trained = new Session(distributed.graph())) {
      r.restoreInto(trained);
      for (Variable v : distributed.graph().variables()) {
        float[] want = s.variableValue(reference.graph().variables().stream()
            .filter(u -> u.name().equals(v.name())).findFirst().orElseThrow()).toFloatArray();
        float[] got = trained.variableValue(v).toFloatArray();
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got[i], 1e-4 * Math.max(1, Math.abs(want[i])), v.name() + "[" + i + "]");
        }
      }
    }
  }

  @Test
  void unequalSharesAreWeightedAsInOneProcess() {
    // plain SGD (Adam would hide a wrongly scaled gradient) and a batch of 31 cut 15 + 16
    SmallModel.Examples data = data();
    Dataset<Row> ds = data.toDataset(spark);
    SmallModel single = SmallModel.build();
    List<Double> one = SparkTrainer.builder(single.graph(), single.loss(), new GradientDescent(0.5))
        .feed("x", "features").feed("y", "label").globalBatchSize(31).workers(1).steps(8).build().fit(ds).losses();
    SmallModel m = SmallModel.build();
    List<Double> two = SparkTrainer.builder(m.graph(), m.loss(), new GradientDescent(0.5))
        .feed("x", "features").feed("y", "label").globalBatchSize(31).workers(2).steps(8).build().fit(ds).losses();
    Session[] local = new Session[1];
    List<Double> expected = SmallModel.build().trainLocally(data, 31, 8, local, new GradientDescent(0.5));
    local[0].close();
    assertTrue(expected.getLast() < 0.9 * expected.getFirst(), "training lowers the loss: " + expected);
    assertClose(expected, one, 1e-5);
    assertClose(expected, two, 1e-5);
  }

  @Test
  void aTaskKilledMidStepIsRetriedAndTheResultIsTheSame() throws Exception {
    Dataset<Row> ds = data().toDataset(spark);
    TrainingResult clean = trainer(SmallModel.build(), 2).steps(8).build().fit(ds);
    int failedBefore = failedTasks.get();
    TrainingResult retried = trainer(SmallModel.build(), 2).steps(8).failOnce(5, 1).build().fit(ds);
    spark.sparkContext().listenerBus().waitUntilEmpty();
    assertTrue(failedTasks.get() > failedBefore, "the injected failure happened");
    assertEquals(clean.losses(), retried.losses());
    assertArrayEquals(clean.checkpoint(), retried.checkpoint());
  }

  @Test
  void checkpointsEveryNStepsAndResumesFromTheNewest() throws Exception {
    Dataset<Row> ds = data().toDataset(spark);
    Path ckpt = dir.resolve("ckpt");
    TrainingResult whole = trainer(SmallModel.build(), 2).steps(12).build().fit(ds);
    TrainingResult first = trainer(SmallModel.build(), 2).steps(7).checkpointEvery(3, ckpt).build().fit(ds);
    assertTrue(Files.exists(ckpt.resolve("step-00000003.ckpt")));
    assertTrue(Files.exists(ckpt.resolve("step-00000006.ckpt")));
    assertEquals(whole.losses().subList(0, 7), first.losses());

    TrainingResult resumed = trainer(SmallModel.build(), 2).steps(12).checkpointEvery(3, ckpt).resume().build().fit(ds);
    assertEquals(7, resumed.steps().getFirst().step(), "resumed after the newest checkpoint, step 6");
    assertEquals(whole.losses().subList(6, 12), resumed.losses());
    assertArrayEquals(whole.checkpoint(), resumed.checkpoint());
    assertTrue(Files.exists(ckpt.resolve("step-00000012.ckpt")));
    IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
        () -> trainer(SmallModel.build(), 2).steps(10).checkpointEvery(3, ckpt).resume().build().fit(ds));
    assertTrue(past.getMessage().contains("is of step 12, past the 10 steps to train"), past.getMessage());
  }

  @Test
  void badSettingsFailEarlyNamingWhatIsWrong() {
    SmallModel m = SmallModel.build();
    Dataset<Row> ds = data().toDataset(spark);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SparkTrainer.builder(m.graph(), m.loss(), SmallModel.optimizer()).feed("z", "features")
            .globalBatchSize(BATCH).steps(1).build().fit(ds));
    assertTrue(e.getMessage().contains("no node 'z'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> trainer(m, 2).globalBatchSize(500).steps(1).build().fit(ds));
    assertTrue(e.getMessage().contains("200 examples are fewer than one global batch of 500"), e.getMessage());
    IllegalStateException s = assertThrows(IllegalStateException.class, () -> trainer(m, 2).build());
    assertTrue(s.getMessage().contains("steps and epochs"), s.getMessage());
    assertEquals(0, m.graph().operations().stream().filter(op -> op.name().startsWith("adam")).count(),
        "the user's graph is left as it was");
  }
}
