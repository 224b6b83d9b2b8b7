package dev.kiln.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Diagnostics: prints the step reports of a short run in local mode. */
final class Probe {
  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().config(LocalCluster.loopback(new SparkConf()).setMaster("local[2,4]")
        .setAppName("probe")).getOrCreate();
    SmallModel m = SmallModel.build();
    SparkTrainer.builder(m.graph(), m.loss(), SmallModel.optimizer()).feed("x", "features").feed("y", "label")
        .globalBatchSize(30).workers(2).steps(6).onStep(System.out::println).build()
        .fit(SmallModel.Examples.random(200, 42).toDataset(spark));
    spark.stop();
  }
}
