package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The classic two-layer network (64x1000 -> 100 -> 10, relu as maximum(h, 0), sum of squared
 * error) with a hand-written gradient-descent step, checked against a plain-Java computation.
 */
class TwoLayerNetworkTest {
  static final int N = 64;
  static final int D_IN = 1000;
  static final int H = 100;
  static final int D_OUT = 10;
  static final float LR = 1e-6f;

  /** The graph of the network and its training step. */
  static final class Net {
    final Graph g = new Graph();
    final Ops tf = Ops.create(g);
    final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, D_IN));
    final Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, D_OUT));
    final Variable w1;
    final Variable w2;
    final Output yPred;
    final Output loss;
    final Output gradW1;
    final Output gradW2;
    final Output hRelu;
    final Output gradYPred;
    final Output gradH;
    final Output newW1;
    final Output newW2;
    final Operation init;

    Net(float[] w1Init, float[] w2Init) {
      w1 = tf.variable("w1", tf.constant(Tensor.of(w1Init, D_IN, H)));
      w2 = tf.variable("w2", tf.constant(Tensor.of(w2Init, H, D_OUT)));
      Output h = tf.matmul(x, w1);
      Output zero = tf.constant(0f);
      hRelu = tf.maximum(h, zero);
      yPred = tf.matmul(hRelu, w2);
      Output diff = tf.sub(yPred, y);
      loss = tf.withName("loss").reduceSum(tf.square(diff));
      gradYPred = tf.mul(tf.constant(2f), diff);
      gradW2 = tf.matmul(hRelu, gradYPred, true, false);
      Output gradHRelu = tf.matmul(gradYPred, w2, false, true);
      gradH = tf.select(tf.less(h, zero), tf.zerosLike(gradHRelu), gradHRelu);
      gradW1 = tf.matmul(x, gradH, true, false);
      Output lr = tf.constant(LR);
      newW1 = tf.withName("new_w1").assign(w1, tf.sub(w1, tf.mul(lr, gradW1)));
      newW2 = tf.withName("new_w2").assign(w2, tf.sub(w2, tf.mul(lr, gradW2)));
      init = tf.globalVariablesInitializer();
    }
  }

  static float[] normal(long seed, int n) {
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  /** Plain-Java reference (double accumulation): the loss and the updated weights of one step. */
  static final class Reference {
    double loss;
    float[] w1;
    float[] w2;
    double[] yPred;

    Reference(float[] x, float[] y, float[] w1, float[] w2) {
      double[] h = new double[N * H];
      for (int i = 0; i < N; i++) {
        for (int j = 0; j < H; j++) {
          double s = 0;
          for (int k = 0; k < D_IN; k++) {
            s += (double) x[i * D_IN + k] * w1[k * H + j];
          }
          h[i * H + j] = s;
        }
      }
      double[] hr = new double[N * H];
      for (int i = 0; i < hr.length; i++) {
        hr[i] = Math.max(h[i], 0);
      }
      yPred = new double[N * D_OUT];
      double[] gy = new double[N * D_OUT];
      for (int i = 0; i < N; i++) {
        for (int j = 0; j < D_OUT; j++) {
          double s = 0;
          for (int k = 0; k < H; k++) {
            s += hr[i * H + k] * w2[k * D_OUT + j];
          }
          yPred[i * D_OUT + j] = s;
          double d = s - y[i * D_OUT + j];
          loss += d * d;
          gy[i * D_OUT + j] = 2 * d;
        }
      }
      this.w2 = new float[H * D_OUT];
      for (int k = 0; k < H; k++) {
        for (int j = 0; j < D_OUT; j++) {
          double g = 0;
          for (int i = 0; i < N; i++) {
            g += hr[i * H + k] * gy[i * D_OUT + j];
          }
          this.w2[k * D_OUT + j] = (float) (w2[k * D_OUT + j] - LR * g);
        }
      }
      double[] gh = new double[N * H];
      for (int i = 0; i < N; i++) {
        for (int k = 0; k < H; k++) {
          double g = 0;
          for (int j = 0; j < D_OUT; j++) {
            g += gy[i * D_OUT + j] * w2[k * D_OUT + j];
          }
          gh[i * H + k] = h[i * H + k] < 0 ? 0 : g;
        }
      }
      this.w1 = new float[D_IN * H];
      for (int k = 0; k < D_IN; k++) {
        for (int j = 0; j < H; j++) {
          double g = 0;
          for (int i = 0; i < N; i++) {
            g += (double) x[i * D_IN + k] * gh[i * H + j];
          }
          this.w1[k * H + j] = (float) (w1[k * H + j] - LR * g);
        }
      }
    }
  }

  private static void assertClose(float[] want, float[] got, double tol, String what) {
    assertEquals(want.length, got.length, what + " length");
    for (int i = 0; i < want.length; i++) {
      double err = Math.abs(want[i] - got[i]);
      if (err > tol * Math.max(1, Math.abs(want[i]))) {
        throw new AssertionError(what + "[" + i + "]: expected " + want[i] + " but was " + got[i]);
      }
    }
  }

  private final float[] xv = normal(1, N * D_IN);
  private final float[] yv = normal(2, N * D_OUT);
  private final float[] w1v = normal(3, D_IN * H);
  private final float[] w2v = normal(4, H * D_OUT);

  @Test
  void forwardPassMatchesPlainJava() {
    Net net = new Net(w1v, w2v);
    Reference ref = new Reference(xv, yv, w1v, w2v);
    try (Session s = new Session(net.g)) {
      s.run(net.init);
      List<Tensor> out = s.run(Map.of(net.x, Tensor.of(xv, N, D_IN), net.y, Tensor.of(yv, N, D_OUT)),
          net.loss, net.yPred);
      assertEquals(ref.loss, out.get(0).floatValue(), ref.loss * 1e-5);
      float[] yp = out.get(1).toFloatArray();
      for (int i = 0; i < yp.length; i++) {
        assertEquals(ref.yPred[i], yp[i], 1e-3 * Math.max(1, Math.abs(ref.yPred[i])));
      }
    }
  }

  @Test
  void trainingStepsMatchPlainJava() {
    Net net = new Net(w1v, w2v);
    float[] w1 = w1v;
    float[] w2 = w2v;
    Map<Output, Tensor> feeds = Map.of(net.x, Tensor.of(xv, N, D_IN), net.y, Tensor.of(yv, N, D_OUT));
    try (Session s = new Session(net.g)) {
      s.run(net.init);
      double firstLoss = 0;
      double lastLoss = 0;
      for (int step = 0; step < 4; step++) {
        Reference ref = new Reference(xv, yv, w1, w2);
        List<Tensor> out = s.run(feeds, net.loss, net.newW1, net.newW2);
        assertEquals(ref.loss, out.get(0).floatValue(), ref.loss * 1e-5, "loss at step " + step);
        assertClose(ref.w1, out.get(1).toFloatArray(), 1e-4, "new_w1 at step " + step);
        assertClose(ref.w2, out.get(2).toFloatArray(), 1e-4, "new_w2 at step " + step);
        // continue from the runtime's weights so that float rounding does not accumulate apart
        w1 = s.variableValue(net.w1).toFloatArray();
        w2 = s.variableValue(net.w2).toFloatArray();
        assertArrayEquals(out.get(1).toFloatArray(), w1);
        if (step == 0) {
          firstLoss = ref.loss;
        }
        lastLoss = ref.loss;
      }
      assertTrue(lastLoss < firstLoss * 0.75, "training reduces the loss: " + firstLoss + " -> " + lastLoss);
    }
  }

  /**
   * new_w1 and new_w2 fetched together: both gradients must read w2 before it is assigned. The
   * expected values come from a second Session that computes the gradients without any assign and
   * applies them afterwards; the results must agree bit for bit, every time. With the default
   * pipeline each update is one BLAS call that adds -lr * gradient into the weights (fuse_matmul_update)
   * and rounds differently: within two ulps of the update's operands (a gradient that read an assigned
   * w2 would be off by far more); without that pass, bit for bit.
   */
  @Test
  void readsBeforeAssignsGiveTheSerialResultEveryTime() {
    Net net = new Net(w1v, w2v);
    Map<Output, Tensor> feeds = Map.of(net.x, Tensor.of(xv, N, D_IN), net.y, Tensor.of(yv, N, D_OUT));
    try (Session s = new Session(net.g); Session serial = new Session(net.g);
        Session exact = new Session(net.g, SessionOptions.builder().disablePass("fuse_matmul_update").build())) {
      s.run(net.init);
      serial.run(net.init);
      exact.run(net.init);
      for (int step = 0; step < 30; step++) {
        List<Tensor> grads = serial.run(feeds, net.gradW1, net.gradW2, net.gradH, net.hRelu, net.gradYPred);
        float[] w1 = serial.variableValue(net.w1).toFloatArray();
        float[] w2 = serial.variableValue(net.w2).toFloatArray();
        float[] g1 = grads.get(0).toFloatArray();
        float[] g2 = grads.get(1).toFloatArray();
        // The rounding error the fused update may make: an ulp or two of its operands' magnitude, plus
        // lr times the error bound of the gradient's N-term dot products (N u sum |a_k b_k|): the
        // BLAS may sum the fused product in another order than the separate MatMul (MKL does).
        float[] bound1 = absProductBound(xv, grads.get(2).toFloatArray(), D_IN, H);
        float[] bound2 = absProductBound(grads.get(3).toFloatArray(), grads.get(4).toFloatArray(), H, D_OUT);
        float[] tol1 = new float[w1.length];
        float[] tol2 = new float[w2.length];
        for (int i = 0; i < w1.length; i++) {
          tol1[i] = 2 * Math.ulp(Math.abs(w1[i]) + Math.abs(LR * g1[i])) + LR * bound1[i];
          w1[i] = w1[i] - LR * g1[i];
        }
        for (int i = 0; i < w2.length; i++) {
          tol2[i] = 2 * Math.ulp(Math.abs(w2[i]) + Math.abs(LR * g2[i])) + LR * bound2[i];
          w2[i] = w2[i] - LR * g2[i];
        }
        serial.assignVariables(Map.of(net.w1, Tensor.of(w1, D_IN, H), net.w2, Tensor.of(w2, H, D_OUT)));

        List<Tensor> out = exact.run(feeds, net.newW1, net.newW2);
        assertArrayEquals(w1, out.get(0).toFloatArray(), "new_w1 at step " + step);
        assertArrayEquals(w2, out.get(1).toFloatArray(), "new_w2 at step " + step);
        out = s.run(feeds, net.newW1, net.newW2);
        assertWithin(w1, tol1, out.get(0).toFloatArray(), "fused new_w1 at step " + step);
        assertWithin(w2, tol2, out.get(1).toFloatArray(), "fused new_w2 at step " + step);
        // The next step starts from the same weights in all three Sessions.
        s.assignVariables(Map.of(net.w1, Tensor.of(w1, D_IN, H), net.w2, Tensor.of(w2, H, D_OUT)));
      }
    }
  }

  /** N u sum_k |a[k,i]| |b[k,j]| for a [N,p], b [N,q]: the rounding bound of (a^T b)[i,j] in float. */
  private static float[] absProductBound(float[] a, float[] b, int p, int q) {
    float[] out = new float[p * q];
    double u = Math.ulp(1f) / 2;
    for (int i = 0; i < p; i++) {
      for (int j = 0; j < q; j++) {
        double s = 0;
        for (int k = 0; k < N; k++) {
          s += Math.abs((double) a[k * p + i]) * Math.abs((double) b[k * q + j]);
        }
        out[i * q + j] = (float) (N * u * s);
      }
    }
    return out;
  }

  private static void assertWithin(float[] want, float[] tolerance, float[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      assertTrue(Math.abs(want[i] - got[i]) <= tolerance[i], what + " element " + i + ": " + want[i] + " vs " + got[i]);
    }
  }
}
