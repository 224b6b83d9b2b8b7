package dev.kiln.spark;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.train.GradientDescent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Measures a step's gradient exchange against the parameter size on a local cluster: a linear model
 * whose one weight matrix holds about 1, 10 or 100 MB, a tiny batch (so the step is mostly exchange),
 * one worker and two. Run by hand (not a test): needs SPARK_HOME and SPARK_LOCAL_IP=127.0.0.1, e.g.
 * {@code java <flags> -cp <test class path> dev.kiln.spark.ExchangeBenchmark 8}.
 */
final class ExchangeBenchmark {
  public static void main(String[] args) {
    int steps = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    SparkSession spark = LocalCluster.start("ExchangeBenchmark", 2, 2560);
    spark.sparkContext().setLogLevel("ERROR");
    System.out.println("MB | workers | ms/step | gather | apply | compute | put | wait+fetch | reduce | exchange share");
    try {
      for (int mb : new int[] {1, 10, 100}) {
        int d = (int) Math.round(Math.sqrt(mb * 1024.0 * 1024 / 4));
        for (int workers : new int[] {1, 2}) {
          List<StepReport> r = run(spark, d, workers, steps);
          List<StepReport> steady = r.subList(2, r.size());
          System.out.printf(Locale.ROOT, "%d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f%%%n", mb, workers,
              avg(steady, StepReport::millis), avg(steady, StepReport::gatherMillis), avg(steady, StepReport::applyMillis),
              avg(steady, StepReport::computeMillis), avg(steady, StepReport::putMillis),
              avg(steady, StepReport::barrierMillis), avg(steady, StepReport::reduceMillis),
              100 * avg(steady, StepReport::communicationMillis) / avg(steady, StepReport::millis));
        }
      }
    } finally {
      spark.stop();
    }
  }

  private static double avg(List<StepReport> r, java.util.function.ToDoubleFunction<StepReport> f) {
    return r.stream().mapToDouble(f).average().orElse(0);
  }

  private static List<StepReport> run(SparkSession spark, int d, int workers, int steps) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, d));
    Output w = tf.variable("w", tf.randomNormal(Shape.of(d, d), DType.FLOAT32, 1));
    Output loss = tf.reduceMean(tf.square(tf.matmul(x, w)));
    List<Row> rows = new ArrayList<>();
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < 8; i++) {
      float[] f = new float[d];
      for (int k = 0; k < d; k++) {
        f[k] = (float) r.nextGaussian();
      }
      rows.add(RowFactory.create((Object) f));
    }
    StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    return SparkTrainer.builder(g, loss, new GradientDescent(1e-6)).feed("x", "features").globalBatchSize(2)
        .steps(steps).workers(workers).checkpointEvery(1000).build().fit(spark.createDataFrame(rows, schema)).steps();
  }
}
