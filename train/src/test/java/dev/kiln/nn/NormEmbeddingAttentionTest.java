package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import dev.kiln.train.Adam;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * BatchNorm, LayerNorm, Embedding and MultiHeadAttention: values against float64 loops written here
 * from the layers' variables, the moving averages' update, and each training a small problem.
 */
class NormEmbeddingAttentionTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  static double[] randoms(long seed, int n, double scale) {
    Random r = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian() * scale;
    }
    return v;
  }

  /** Runs {@code steps} training steps and returns the first and last losses. */
  static double[] train(Session s, Operation step, Output loss, Map<Output, Tensor> feeds, int steps) {
    double first = Double.NaN;
    double last = Double.NaN;
    for (int i = 0; i < steps; i++) {
      Session.Runner r = s.runner().addTarget(step).fetch(loss);
      feeds.forEach(r::feed);
      last = r.run().getFirst().getDouble(0);
      if (i == 0) {
        first = last;
      }
    }
    return new double[] {first, last};
  }

  @Test
  void embeddingLooksUpRowsAndLearnsTargets() {
    Output ids = tf.placeholder("ids", DType.INT32, Shape.of(2, 5));
    Output target = tf.placeholder("target", DType.FLOAT64, Shape.of(2, 5, 3));
    Embedding emb = new Embedding(10, 3).withDType(DType.FLOAT64).withSeed(7);
    Output y = emb.apply(tf, ids);
    assertEquals(Shape.of(2, 5, 3), y.shape());
    Output loss = tf.reduceMean(tf.square(tf.sub(y, target)));
    Operation step = new Adam(0.05).minimize(loss, emb.trainableVariables());
    int[] idv = {1, 3, 3, 9, 0, 2, 4, 6, 8, 1};
    double[] rowTargets = randoms(3, 30, 1);
    double[] tv = new double[30];
    for (int i = 0; i < 10; i++) {
      System.arraycopy(rowTargets, idv[i] * 3, tv, i * 3, 3);
    }
    Map<Output, Tensor> feeds = Map.of(ids, Tensor.of(idv, 2, 5), target, Tensor.of(tv, 2, 5, 3));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] table = s.variableValue(emb.embeddings().orElseThrow()).toDoubleArray();
      for (double v : table) {
        assertTrue(v >= -0.05 && v <= 0.05, "initial value " + v);
      }
      double[] got = s.runner().feed(ids, Tensor.of(idv, 2, 5)).fetch(y).run().getFirst().toDoubleArray();
      for (int i = 0; i < 10; i++) {
        for (int j = 0; j < 3; j++) {
          assertEquals(table[idv[i] * 3 + j], got[i * 3 + j], 0);
        }
      }
      double[] l = train(s, step, loss, feeds, 300);
      assertTrue(l[1] < 1e-3 * l[0], "loss " + l[0] + " -> " + l[1]);
      // Rows never looked up (5 and 7) keep their initial values: the gradient is zero there.
      double[] after = s.variableValue(emb.embeddings().orElseThrow()).toDoubleArray();
      for (int j = 0; j < 3; j++) {
        assertEquals(table[5 * 3 + j], after[5 * 3 + j], 0);
        assertEquals(table[7 * 3 + j], after[7 * 3 + j], 0);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> s.runner().feed(ids, Tensor.of(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 10}, 2, 5)).fetch(y).run());
      assertEquals("Gather 'embedding/Gather': index 10 (element 9 of indices) is out of range [0, 10) for axis 0"
          + " of params [10,3]", e.getMessage());
    }
  }

  @Test
  void batchNormUpdatesMovingAveragesAndNormalizesWithThemInInference() {
    Output training = Dropout.trainingFlag(tf, "training");
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(8, 3));
    BatchNorm bn = new BatchNorm(3, training).withMomentum(0.9);
    Output y = bn.apply(tf, x);
    double[] xv = randoms(4, 24, 2);
    for (int i = 0; i < 24; i++) {
      xv[i] += i % 3; // channel means 0, 1, 2 (plus noise)
    }
    double[] mean = new double[3];
    double[] var = new double[3];
    for (int c = 0; c < 3; c++) {
      for (int r = 0; r < 8; r++) {
        mean[c] += xv[r * 3 + c] / 8;
      }
      for (int r = 0; r < 8; r++) {
        var[c] += Math.pow(xv[r * 3 + c] - mean[c], 2) / 8;
      }
    }
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] yt = s.runner().feed(x, Tensor.of(xv, 8, 3)).feed(training, Tensor.scalar(true)).fetch(y).run()
          .getFirst().toDoubleArray();
      for (int i = 0; i < 24; i++) {
        int c = i % 3;
        assertEquals((xv[i] - mean[c]) / Math.sqrt(var[c] + 1e-3), yt[i], 1e-12);
      }
      double[] mm = s.variableValue(bn.movingMean().orElseThrow()).toDoubleArray();
      double[] mv = s.variableValue(bn.movingVariance().orElseThrow()).toDoubleArray();
      for (int c = 0; c < 3; c++) {
        assertEquals(0.1 * mean[c], mm[c], 1e-12);
        assertEquals(0.9 + 0.1 * var[c], mv[c], 1e-12);
      }
      double[] yi = s.runner().feed(x, Tensor.of(xv, 8, 3)).feed(training, Tensor.scalar(false)).fetch(y).run()
          .getFirst().toDoubleArray();
      for (int i = 0; i < 24; i++) {
        int c = i % 3;
        assertEquals((xv[i] - mm[c]) / Math.sqrt(mv[c] + 1e-3), yi[i], 1e-12);
      }
      // Inference leaves the moving averages as they were.
      assertEquals(mm[2], s.variableValue(bn.movingMean().orElseThrow()).toDoubleArray()[2], 0);
    }
  }

  @Test
  void aNetworkWithBatchNormTrains() {
    Output training = Dropout.trainingFlag(tf, "training");
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(64, 2));
    Output labels = tf.placeholder("labels", DType.FLOAT32, Shape.of(64, 2));
    Linear l1 = new Linear(2, 16).withSeed(1);
    BatchNorm bn = new BatchNorm(16, training);
    Linear l2 = new Linear(16, 2).withSeed(2);
    Output logits = l2.apply(tf, tf.relu(bn.apply(tf, l1.apply(tf, x))));
    Output loss = Losses.softmaxCrossEntropy(tf, logits, labels, Reduction.MEAN);
    List<Variable> vars = new ArrayList<>(l1.trainableVariables());
    vars.addAll(bn.trainableVariables());
    vars.addAll(l2.trainableVariables());
    Operation step = new Adam(0.02).minimize(loss, vars);
    // Two classes: inside or outside a circle, around an offset far from the origin.
    Random r = new Random(5);
    float[] xv = new float[128];
    float[] lv = new float[128];
    for (int i = 0; i < 64; i++) {
      double a = r.nextDouble() * 2 - 1;
      double b = r.nextDouble() * 2 - 1;
      xv[2 * i] = (float) (100 + a);
      xv[2 * i + 1] = (float) (-50 + b);
      lv[2 * i + (a * a + b * b < 0.5 ? 1 : 0)] = 1;
    }
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] l = train(s, step, loss, Map.of(x, Tensor.of(xv, 64, 2), labels, Tensor.of(lv, 64, 2), training,
          Tensor.scalar(true)), 300);
      assertTrue(l[1] < 0.25 * l[0] && l[1] < 0.2, "loss " + l[0] + " -> " + l[1]);
    }
  }

  @Test
  void layerNormMatchesLoopsAndTrains() {
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(4, 6));
    LayerNorm ln = new LayerNorm(6);
    Output y = ln.apply(tf, x);
    Output target = tf.placeholder("t", DType.FLOAT64, Shape.of(4, 6));
    Output loss = tf.reduceMean(tf.square(tf.sub(y, target)));
    Operation step = new Adam(0.05).minimize(loss, ln.trainableVariables());
    double[] xv = randoms(6, 24, 3);
    double[] tv = new double[24];
    for (int i = 0; i < 24; i++) {
      tv[i] = 0.5 * (i % 6) - 1; // reachable through gamma and beta only when rows normalize alike
    }
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] got = s.runner().feed(x, Tensor.of(xv, 4, 6)).fetch(y).run().getFirst().toDoubleArray();
      for (int r = 0; r < 4; r++) {
        double m = 0;
        for (int c = 0; c < 6; c++) {
          m += xv[r * 6 + c] / 6;
        }
        double v = 0;
        for (int c = 0; c < 6; c++) {
          v += Math.pow(xv[r * 6 + c] - m, 2) / 6;
        }
        for (int c = 0; c < 6; c++) {
          assertEquals((xv[r * 6 + c] - m) / Math.sqrt(v + 1e-5), got[r * 6 + c], 1e-12);
        }
      }
      double[] l = train(s, step, loss, Map.of(x, Tensor.of(xv, 4, 6), target, Tensor.of(tv, 4, 6)), 200);
      assertTrue(l[1] < 0.9 * l[0], "loss " + l[0] + " -> " + l[1]);
    }
  }

  @Test
  void attentionMatchesAFloat64ReferenceAndMasksCausally() {
    int b = 2;
    int t = 3;
    int d = 4;
    int h = 2;
    for (boolean causal : new boolean[] {false, true}) {
      Graph graph = new Graph();
      Ops ops = Ops.create(graph);
      Output x = ops.placeholder("x", DType.FLOAT64, Shape.of(-1, t, d));
      MultiHeadAttention mha = new MultiHeadAttention(d, h).withSeed(3);
      mha = causal ? mha.causal() : mha;
      Output y = mha.apply(ops, x);
      assertEquals(Shape.of(-1, t, d), y.shape());
      double[] xv = randoms(8, b * t * d, 1);
      try (Session s = new Session(graph)) {
        s.run(ops.globalVariablesInitializer());
        List<Variable> vars = mha.trainableVariables();
        for (int i = 1; i < 8; i += 2) {
          s.assignVariables(Map.of(vars.get(i), Tensor.of(randoms(20 + i, d, 0.5), d)));
        }
        double[][] w = new double[8][];
        for (int i = 0; i < 8; i++) {
          w[i] = s.variableValue(vars.get(i)).toDoubleArray();
        }
        double[] got = s.runner().feed(x, Tensor.of(xv, b, t, d)).fetch(y).run().getFirst().toDoubleArray();
        double[] ref = attention(xv, w, b, t, d, h, causal);
        for (int i = 0; i < ref.length; i++) {
          assertEquals(ref[i], got[i], 1e-12, "element " + i);
        }
      }
    }
  }

  /** The layer's computation as loops: projections, per-head softmax attention, output projection. */
  static double[] attention(double[] x, double[][] w, int b, int t, int d, int h, boolean causal) {
    int dk = d / h;
    double[][] qkv = new double[3][b * t * d];
    for (int p = 0; p < 3; p++) {
      qkv[p] = linear(x, w[2 * p], w[2 * p + 1], b * t, d);
    }
    double[] merged = new double[b * t * d];
    for (int n = 0; n < b; n++) {
      for (int head = 0; head < h; head++) {
        for (int i = 0; i < t; i++) {
          double[] score = new double[t];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < t; j++) {
            double sc = 0;
            for (int c = 0; c < dk; c++) {
              sc += qkv[0][(n * t + i) * d + head * dk + c] * qkv[1][(n * t + j) * d + head * dk + c];
            }
            score[j] = sc / Math.sqrt(dk) + (causal && j > i ? -1e9 : 0);
            max = Math.max(max, score[j]);
          }
          double sum = 0;
          for (int j = 0; j < t; j++) {
            score[j] = Math.exp(score[j] - max);
            sum += score[j];
          }
          for (int c = 0; c < dk; c++) {
            double o = 0;
            for (int j = 0; j < t; j++) {
              o += score[j] / sum * qkv[2][(n * t + j) * d + head * dk + c];
            }
            merged[(n * t + i) * d + head * dk + c] = o;
          }
        }
      }
    }
    return linear(merged, w[6], w[7], b * t, d);
  }

  static double[] linear(double[] x, double[] kernel, double[] bias, int rows, int d) {
    double[] y = new double[rows * d];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < d; j++) {
        double s = bias[j];
        for (int k = 0; k < d; k++) {
          s += x[r * d + k] * kernel[k * d + j];
        }
        y[r * d + j] = s;
      }
    }
    return y;
  }

  @Test
  void attentionLearnsToAverageThePositions() {
    int b = 16;
    int t = 4;
    int d = 8;
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(b, t, d));
    Output target = tf.placeholder("target", DType.FLOAT32, Shape.of(b, t, d));
    MultiHeadAttention mha = new MultiHeadAttention(d, 2).withSeed(11);
    Output loss = tf.reduceMean(tf.square(tf.sub(mha.apply(tf, x), target)));
    Operation step = new Adam(0.01).minimize(loss, mha.trainableVariables());
    double[] xd = randoms(12, b * t * d, 1);
    float[] xv = new float[xd.length];
    float[] tv = new float[xd.length];
    for (int i = 0; i < xd.length; i++) {
      xv[i] = (float) xd[i];
    }
    for (int n = 0; n < b; n++) {
      for (int c = 0; c < d; c++) {
        float m = 0;
        for (int p = 0; p < t; p++) {
          m += xv[(n * t + p) * d + c] / t;
        }
        for (int p = 0; p < t; p++) {
          tv[(n * t + p) * d + c] = m;
        }
      }
    }
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] l = train(s, step, loss, Map.of(x, Tensor.of(xv, b, t, d), target, Tensor.of(tv, b, t, d)), 300);
      assertTrue(l[1] < 0.1 * l[0], "loss " + l[0] + " -> " + l[1]);
    }
  }
}
