package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Losses against direct computations in double precision, and their gradients at extreme logits. */
class LossTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output logits = tf.placeholder("logits", DType.FLOAT32, Shape.of(-1, 3));
  private final Output labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
  private final Output oneHot = tf.placeholder("one_hot", DType.FLOAT32, Shape.of(-1, 3));

  private static final float[] LOGITS = {2f, -1f, 0.5f, 0f, 0f, 0f, -3f, 4f, 1f, 10f, 9f, -8f};
  private static final int[] LABELS = {0, 2, 1, 1};

  private static float[] oneHotOf(int[] y, int classes) {
    float[] r = new float[y.length * classes];
    for (int i = 0; i < y.length; i++) {
      r[i * classes + y[i]] = 1f;
    }
    return r;
  }

  /** -log softmax(z)[y] per row, via log-sum-exp in double. */
  private static double[] crossEntropy(float[] z, int[] y, int classes) {
    double[] r = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < classes; j++) {
        max = Math.max(max, z[i * classes + j]);
      }
      double sum = 0;
      for (int j = 0; j < classes; j++) {
        sum += Math.exp(z[i * classes + j] - max);
      }
      r[i] = max + Math.log(sum) - z[i * classes + y[i]];
    }
    return r;
  }

  private List<Tensor> eval(float[] z, int[] y, Output... outs) {
    try (Session s = new Session(g)) {
      var r = s.runner().feed(logits, Tensor.of(z, y.length, 3)).feed(labels, Tensor.of(y, y.length))
          .feed(oneHot, Tensor.of(oneHotOf(y, 3), y.length, 3));
      for (Output o : outs) {
        r.fetch(o);
      }
      return r.run();
    }
  }

  @Test
  void softmaxCrossEntropyAllFormsAndReductions() {
    double[] want = crossEntropy(LOGITS, LABELS, 3);
    double sum = 0;
    for (double w : want) {
      sum += w;
    }
    List<Tensor> r = eval(LOGITS, LABELS,
        Losses.softmaxCrossEntropy(tf, logits, oneHot, Reduction.MEAN),
        Losses.softmaxCrossEntropy(tf, logits, oneHot, Reduction.SUM),
        Losses.sparseSoftmaxCrossEntropy(tf, logits, labels, Reduction.MEAN),
        Losses.sparseSoftmaxCrossEntropy(tf, logits, labels, Reduction.NONE),
        Losses.negativeLogLikelihood(tf, tf.logSoftmax(logits), labels, Reduction.SUM));
    assertEquals(sum / 4, r.get(0).floatValue(), 1e-5);
    assertEquals(sum, r.get(1).floatValue(), 1e-5);
    assertEquals(sum / 4, r.get(2).floatValue(), 1e-5);
    float[] perExample = r.get(3).toFloatArray();
    for (int i = 0; i < 4; i++) {
      assertEquals(want[i], perExample[i], 1e-5);
    }
    assertEquals(sum, r.get(4).floatValue(), 1e-5);
  }

  @Test
  void negativeLogLikelihoodPicksTheLabelledEntry() {
    // log-probabilities need not be normalized for NLL: it is -x[i, y[i]]
    List<Tensor> r = eval(LOGITS, LABELS, Losses.negativeLogLikelihood(tf, logits, labels, Reduction.MEAN));
    double want = -(LOGITS[0] + LOGITS[5] + LOGITS[7] + LOGITS[10]) / 4;
    assertEquals(want, r.getFirst().floatValue(), 1e-6);
  }

  @Test
  void meanSquaredError() {
    Output p = tf.placeholder("p", DType.FLOAT32, Shape.of(2, 2));
    Output t = tf.placeholder("t", DType.FLOAT32, Shape.of(2, 2));
    Output mean = Losses.meanSquaredError(tf, p, t, Reduction.MEAN);
    Output sum = Losses.meanSquaredError(tf, p, t, Reduction.SUM);
    float[] ps = {1f, 2f, 3f, 4f};
    float[] ts = {0.5f, 2f, -1f, 6f};
    double want = 0;
    for (int i = 0; i < 4; i++) {
      want += (ps[i] - ts[i]) * (ps[i] - ts[i]);
    }
    try (Session s = new Session(g)) {
      List<Tensor> r = s.runner().feed(p, Tensor.of(ps, 2, 2)).feed(t, Tensor.of(ts, 2, 2)).fetch(mean).fetch(sum)
          .run();
      assertEquals(want / 4, r.get(0).floatValue(), 1e-6);
      assertEquals(want, r.get(1).floatValue(), 1e-5);
    }
  }

  @Test
  void stableAtLogitsOfTenThousand() {
    float[] z = {1e4f, -1e4f, 0f, -1e4f, 1e4f, 1e4f};
    int[] y = {1, 0};
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, logits, labels, Reduction.SUM);
    Output grad = tf.gradients(loss, logits).getFirst();
    List<Tensor> r = eval(z, y, loss, grad);
    // row 0: -log softmax = 1e4 - (-1e4) = 2e4; row 1: 1e4 + log 2 - (-1e4)
    assertEquals(2e4 + 2e4 + Math.log(2), r.get(0).floatValue(), 1e-2);
    // d loss / d logits = softmax(z) - onehot(y)
    float[] gr = r.get(1).toFloatArray();
    float[] want = {1f, -1f, 0f, -1f, 0.5f, 0.5f};
    for (int i = 0; i < 6; i++) {
      assertTrue(Float.isFinite(gr[i]), "gradient " + i + " is " + gr[i]);
      // f32 spacing at 1e4 is ~1e-3, so log-sum-exp there is only that exact
      assertEquals(want[i], gr[i], 1e-3, "gradient " + i);
    }
  }

  @Test
  void crossEntropyGradientIsSoftmaxMinusLabelsOverBatch() {
    Output loss = Losses.softmaxCrossEntropy(tf, logits, oneHot, Reduction.MEAN);
    Output grad = tf.gradients(loss, logits).getFirst();
    float[] gr = eval(LOGITS, LABELS, grad).getFirst().toFloatArray();
    for (int i = 0; i < 4; i++) {
      double max = Math.max(LOGITS[3 * i], Math.max(LOGITS[3 * i + 1], LOGITS[3 * i + 2]));
      double z = 0;
      for (int j = 0; j < 3; j++) {
        z += Math.exp(LOGITS[3 * i + j] - max);
      }
      for (int j = 0; j < 3; j++) {
        double want = (Math.exp(LOGITS[3 * i + j] - max) / z - (LABELS[i] == j ? 1 : 0)) / 4;
        assertEquals(want, gr[3 * i + j], 1e-6);
      }
    }
  }
}
