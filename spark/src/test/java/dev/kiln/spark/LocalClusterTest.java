package dev.kiln.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.Session;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Training and scoring on two real executor JVMs ({@code local-cluster[2,1,1024]}), the gradients
 * crossing between them through their block managers, with a task killed mid-step.
 */
class LocalClusterTest {
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = LocalCluster.start("LocalClusterTest", 2, 1024);
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void twoExecutorsTrainAsOneProcessThroughAKilledTask() {
    SmallModel.Examples data = SmallModel.Examples.random(200, 42);
    Dataset<Row> ds = data.toDataset(spark);
    SmallModel m = SmallModel.build();
    TrainingResult r = SparkTrainer.builder(m.graph(), m.loss(), SmallModel.optimizer())
        .feed("x", "features").feed("y", "label").globalBatchSize(30).workers(2).steps(10).failOnce(4, 1)
        .build().fit(ds);
    Session[] local = new Session[1];
    List<Double> expected = SmallModel.build().trainLocally(data, 30, 10, local);
    local[0].close();
    SparkTrainerTest.assertClose(expected, r.losses(), 1e-5);

    Set<String> executors = new TreeSet<>(List.of(spark.sparkContext().getExecutorIds().mkString(",").split(",")));
    assertEquals(2, executors.size(), "two executor JVMs: " + executors);
  }

  @Test
  void scoringRunsOnTheExecutors() {
    SmallModel m = SmallModel.build();
    try (Session s = new Session(m.graph())) {
      s.run(dev.kiln.graph.Ops.create(m.graph()).globalVariablesInitializer());
      SmallModel.Examples data = SmallModel.Examples.random(40, 3);
      List<Row> rows = SparkScorer.of(spark, s, "x", m.logits().name()).withBatchSize(8)
          .transform(data.toDataset(spark).repartition(2), "features", "logits").collectAsList();
      assertEquals(40, rows.size());
      float[] first = s.runner().feed(m.x(), data.x(0, 1)).fetch(m.logits()).run().getFirst().toFloatArray();
      boolean found = false;
      for (Row r : rows) {
        List<Float> f = r.getList(0);
        if (f.get(0) == data.features()[0][0] && f.get(1) == data.features()[0][1]) {
          List<Float> got = r.getList(2);
          for (int k = 0; k < first.length; k++) {
            assertEquals(first[k], got.get(k), 1e-5f * Math.max(1, Math.abs(first[k])));
          }
          found = true;
        }
      }
      assertTrue(found, "example 0 was scored");
    }
  }
}
