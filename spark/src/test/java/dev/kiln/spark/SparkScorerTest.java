package dev.kiln.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Ops;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Batch inference in local mode, checked against the same graph run in one local Session. */
class SparkScorerTest {
  private static SparkSession spark;
  private static SmallModel model;
  private static Session session;
  private static SmallModel.Examples data;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().config(LocalCluster.loopback(new SparkConf()).setMaster("local[2]")
        .setAppName("SparkScorerTest")).getOrCreate();
    model = SmallModel.build();
    session = new Session(model.graph());
    session.run(Ops.create(model.graph()).globalVariablesInitializer());
    data = SmallModel.Examples.random(101, 5);
  }

  @AfterAll
  static void stop() {
    session.close();
    spark.stop();
  }

  /** The logits of example i computed by the local Session, one example per run. */
  private static float[] expected(int i) {
    return session.runner().feed(model.x(), data.x(i, i + 1)).fetch(model.logits()).run().getFirst().toFloatArray();
  }

  @Test
  void transformScoresEveryRowInBatches() {
    Dataset<Row> ds = data.toDataset(spark).repartition(3);
    SparkScorer scorer = SparkScorer.of(spark, session, "x", model.logits().name()).withBatchSize(16);
    List<Row> rows = scorer.transform(ds, "features", "logits").collectAsList();
    assertEquals(101, rows.size());
    assertEquals(List.of("features", "label", "logits"),
        List.of(scorer.transform(ds, "features", "logits").columns()));
    for (Row r : rows) {
      List<Float> f = r.getList(0);
      int i = indexOf(f);
      List<Float> got = r.getList(2);
      float[] want = expected(i);
      assertEquals(want.length, got.size());
      for (int k = 0; k < want.length; k++) {
        assertEquals(want[k], got.get(k), 1e-5f * Math.max(1, Math.abs(want[k])), "row " + i + "[" + k + "]");
      }
    }
  }

  @Test
  void aSqlFunctionScoresOneValue() {
    data.toDataset(spark).createOrReplaceTempView("examples");
    SparkScorer.of(spark, session, "x", model.logits().name()).registerUdf(spark, "kiln_logits");
    List<Row> rows = spark.sql("SELECT features, kiln_logits(features) AS s FROM examples").collectAsList();
    assertEquals(101, rows.size());
    for (Row r : rows) {
      int i = indexOf(r.getList(0));
      float[] want = expected(i);
      List<Float> got = r.getList(1);
      for (int k = 0; k < want.length; k++) {
        assertEquals(want[k], got.get(k), 1e-5f * Math.max(1, Math.abs(want[k])));
      }
    }
  }

  @Test
  void scoreWorksInsideMapPartitions() {
    SparkScorer scorer = SparkScorer.of(spark, session, "x", model.logits().name()).withBatchSize(7);
    List<float[]> inputs = new ArrayList<>();
    for (float[] f : data.features()) {
      inputs.add(f);
    }
    List<float[]> scores = spark.createDataset(inputs, Encoders.kryo(float[].class)).javaRDD()
        .mapPartitions(scorer::score).collect();
    assertEquals(101, scores.size());
    for (int i = 0; i < 101; i++) {
      assertArrayEquals(expected(i), scores.get(i), 1e-5f);
    }
  }

  @Test
  void aValueOfTheWrongSizeIsNamed() {
    SparkScorer scorer = SparkScorer.of(spark, session, "x", model.logits().name());
    List<Object> bad = List.of(new float[] {1f, 2f});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> scorer.score(bad.iterator()).next());
    assertTrue(e.getMessage().contains("holds 2 values; placeholder 'x' takes 8 per example"), e.getMessage());
  }

  private static int indexOf(List<Float> features) {
    for (int i = 0; i < data.features().length; i++) {
      boolean same = true;
      for (int k = 0; k < SmallModel.FEATURES && same; k++) {
        same = data.features()[i][k] == features.get(k);
      }
      if (same) {
        return i;
      }
    }
    throw new AssertionError("no example has features " + features);
  }
}
