package dev.kiln.spark;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Losses;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.Reduction;
import dev.kiln.nn.Sequential;
import dev.kiln.runtime.Session;
import dev.kiln.train.Adam;
import dev.kiln.train.Optimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** A small classifier (8 -> 16 -> ReLU -> 3, softmax cross-entropy, Adam) and random examples for it. */
record SmallModel(Graph graph, Output x, Output y, Output logits, Output loss) {
  static final int FEATURES = 8;
  static final int CLASSES = 3;

  static SmallModel build() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, FEATURES));
    Output y = tf.placeholder("y", DType.INT32, Shape.of(-1));
    Sequential model = Sequential.of(new Linear(FEATURES, 16).withSeed(7), new ReLU(),
        new Linear(16, CLASSES).withSeed(8));
    Output logits = model.apply(tf, x);
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, logits, y, Reduction.MEAN);
    return new SmallModel(g, x, y, logits, loss);
  }

  static Adam optimizer() {
    return new Adam(0.01);
  }

  /** Examples whose class depends on their features (so that training lowers the loss). */
  record Examples(float[][] features, int[] labels) {
    static Examples random(int n, long seed) {
      Random r = new Random(seed);
      float[][] f = new float[n][FEATURES];
      int[] l = new int[n];
      for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < FEATURES; j++) {
          f[i][j] = (float) r.nextGaussian();
          s += f[i][j] * (j % 3 - 1);
        }
        l[i] = s < -0.5 ? 0 : s < 0.5 ? 1 : 2;
      }
      return new Examples(f, l);
    }

    Dataset<Row> toDataset(SparkSession spark) {
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        rows.add(RowFactory.create(features[i], labels[i]));
      }
      StructType schema = new StructType()
          .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
          .add("label", DataTypes.IntegerType, false);
      return spark.createDataFrame(rows, schema);
    }

    Tensor x(int from, int to) {
      float[] flat = new float[(to - from) * FEATURES];
      for (int i = from; i < to; i++) {
        System.arraycopy(features[i], 0, flat, (i - from) * FEATURES, FEATURES);
      }
      return Tensor.of(flat, to - from, FEATURES);
    }

    Tensor y(int from, int to) {
      int[] l = new int[to - from];
      System.arraycopy(labels, from, l, 0, to - from);
      return Tensor.of(l, to - from);
    }
  }

  /**
   * Single-process training on the same global batches as SparkTrainer: step k takes examples
   * [(k-1) mod b * batch, ...) where b is the number of whole batches; returns the loss of each step.
   */
  List<Double> trainLocally(Examples data, int batch, int steps, Session[] keep) {
    return trainLocally(data, batch, steps, keep, optimizer());
  }

  List<Double> trainLocally(Examples data, int batch, int steps, Session[] keep, Optimizer optimizer) {
    Operation step = optimizer.minimize(loss);
    Operation init = Ops.create(graph).globalVariablesInitializer();
    Session s = new Session(graph);
    s.run(init);
    int perEpoch = data.labels().length / batch;
    List<Double> losses = new ArrayList<>();
    for (int k = 1; k <= steps; k++) {
      int from = (k - 1) % perEpoch * batch;
      losses.add(s.runner().feed(x, data.x(from, from + batch)).feed(y, data.y(from, from + batch)).fetch(loss)
          .addTarget(step).run().getFirst().doubleValue());
    }
    keep[0] = s;
    return losses;
  }
}
