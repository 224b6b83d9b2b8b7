package dev.kiln.runtime.kernels;

import static dev.kiln.runtime.kernels.Float32Checks.assertClose;
import static dev.kiln.runtime.kernels.Float32Checks.random;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Products with constant weights: through a Session (oneDNN where it loads, with the weights packed
 * once) against float64 loops written here, with and without a bias and relu, and with the constant's
 * node fed a value of the run's own.
 */
class DnnlMatMulTest {
  @ParameterizedTest
  @CsvSource({"1, 300, 256, false", "5, 300, 256, true", "64, 512, 300, false", "64, 256, 512, true"})
  void aProductWithConstantWeightsMatchesTheFloat64Loops(int m, int k, int n, boolean tb) {
    Random rnd = new Random(m * 31 + k);
    float[] x = random(rnd, m * k);
    float[] w = random(rnd, k * n);
    float[] bias = random(rnd, n);
    float[] other = random(rnd, k * n);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output xp = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, k));
    Output wc = tf.constant(tb ? Tensor.of(w, n, k) : Tensor.of(w, k, n));
    Output product = tf.matmul(xp, wc, false, tb);
    Output dense = tf.relu(tf.biasAdd(tf.matmul(xp, wc, false, tb), tf.constant(Tensor.of(bias, n))));
    try (Session s = new Session(g)) {
      List<Tensor> out = s.run(Map.of(xp, Tensor.of(x, m, k)), product, dense);
      assertClose(reference(x, w, null, m, k, n, tb), out.get(0).toFloatArray(), "product");
      assertClose(reference(x, w, bias, m, k, n, tb), out.get(1).toFloatArray(), "bias + relu");
      Tensor fed = tb ? Tensor.of(other, n, k) : Tensor.of(other, k, n);
      List<Tensor> fedOut = s.run(Map.of(xp, Tensor.of(x, m, k), wc, fed), product, dense);
      assertClose(reference(x, other, null, m, k, n, tb), fedOut.get(0).toFloatArray(), "product, weights fed");
      assertClose(reference(x, other, bias, m, k, n, tb), fedOut.get(1).toFloatArray(), "bias + relu, weights fed");
    }
  }

  @Test
  void onlyAConstantLargeEnoughGoesToOneDnn() {
    assumeTrue(DnnlEngine.AVAILABLE, "oneDNN did not load on this machine; products use BLAS");
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(8, 256));
    Output big = tf.matmul(x, tf.constant(Tensor.of(new float[256 * 256], 256, 256)));
    Output small = tf.matmul(x, tf.constant(Tensor.of(new float[256 * 16], 256, 16)));
    Output fedWeights = tf.matmul(x, tf.placeholder("w", DType.FLOAT32, Shape.of(256, 256)));
    Kernel none = frame -> { };
    assertTrue(DnnlMatMul.create(spec(big), false, false, none).isPresent());
    assertFalse(DnnlMatMul.create(spec(small), false, false, none).isPresent());
    assertFalse(DnnlMatMul.create(spec(fedWeights), false, false, none).isPresent());
  }

  private static KernelSpec spec(Output y) {
    return new KernelSpec(y.op(), y.op().inputs().stream().map(Output::type).toList(), y.op().outputTypes(),
        new int[] {0, 1}, new int[] {2});
  }

  private static float[] reference(float[] x, float[] w, float[] bias, int m, int k, int n, boolean tb) {
    float[] y = new float[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int p = 0; p < k; p++) {
          acc += (double) x[i * k + p] * (tb ? w[j * k + p] : w[p * n + j]);
        }
        y[i * n + j] = bias == null ? (float) acc : (float) Math.max(0, acc + bias[j]);
      }
    }
    return y;
  }
}
