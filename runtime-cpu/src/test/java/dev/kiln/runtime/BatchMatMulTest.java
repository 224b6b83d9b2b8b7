package dev.kiln.runtime;

import dev.kiln.runtime.blas.Blas;

import dev.kiln.runtime.kernels.BatchMatMulKernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batched products (Ops.matmul on rank >= 3) against a float64 loop over the broadcast batch written
 * here: every transpose combination, broadcast batch dimensions on either side, a shared rank-2
 * operand, sizes on the Java-loop and on the BLAS paths, float32/float64/int32; and the gradients,
 * which sum over the broadcast batch dimensions.
 */
class BatchMatMulTest {
  /** Stored shapes of a and b (transposes already applied to the stored layout). */
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(new int[] {2, 3, 4}, new int[] {2, 4, 5}, false, false),
        Arguments.of(new int[] {2, 4, 3}, new int[] {2, 4, 5}, true, false),
        Arguments.of(new int[] {2, 3, 4}, new int[] {2, 5, 4}, false, true),
        Arguments.of(new int[] {2, 4, 3}, new int[] {2, 5, 4}, true, true),
        Arguments.of(new int[] {2, 1, 3, 4}, new int[] {3, 4, 5}, false, false),
        Arguments.of(new int[] {3, 4}, new int[] {2, 3, 4, 5}, false, false),
        Arguments.of(new int[] {2, 3, 3, 4}, new int[] {4, 5}, false, false),
        Arguments.of(new int[] {2, 3, 4, 3}, new int[] {1, 5, 4}, true, true),
        // BLAS-sized: one product per batch entry through sgemm at offsets, and the folded rows.
        Arguments.of(new int[] {3, 40, 33}, new int[] {3, 33, 20}, false, false),
        Arguments.of(new int[] {3, 33, 40}, new int[] {1, 20, 33}, true, true),
        Arguments.of(new int[] {4, 30, 33}, new int[] {33, 20}, false, false),
        // Enough work that the batch splits over the cores.
        Arguments.of(new int[] {8, 64, 48}, new int[] {8, 64, 40}, true, false));
  }

  static double[] randoms(long seed, int n) {
    Random r = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextInt(7) - 3 + (seed % 2 == 0 ? 0.25 : 0.5);
    }
    return v;
  }

  static int count(int[] dims) {
    int n = 1;
    for (int d : dims) {
      n *= d;
    }
    return n;
  }

  /** The reference: out[batch, i, j] = sum_q op(a)[i,q] op(b)[q,j], batch indices broadcast. */
  static double[] reference(double[] a, int[] ad, double[] b, int[] bd, boolean ta, boolean tb, int[] outDims) {
    int ra = ad.length;
    int rb = bd.length;
    int m = ta ? ad[ra - 1] : ad[ra - 2];
    int k = ta ? ad[ra - 2] : ad[ra - 1];
    int n = tb ? bd[rb - 2] : bd[rb - 1];
    int rank = outDims.length - 2;
    int batches = count(java.util.Arrays.copyOf(outDims, rank));
    double[] out = new double[batches * m * n];
    for (int t = 0; t < batches; t++) {
      int[] idx = new int[rank];
      for (int d = rank - 1, rem = t; d >= 0; d--) {
        idx[d] = rem % outDims[d];
        rem /= outDims[d];
      }
      int aBase = matrixOffset(idx, ad) * m * k;
      int bBase = matrixOffset(idx, bd) * k * n;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int q = 0; q < k; q++) {
            double x = a[aBase + (ta ? q * m + i : i * k + q)];
            double y = b[bBase + (tb ? j * k + q : q * n + j)];
            s += x * y;
          }
          out[(t * m + i) * n + j] = s;
        }
      }
    }
    return out;
  }

  /** The index of the matrix of an operand with dims (batch + 2) picked by the broadcast batch index. */
  static int matrixOffset(int[] idx, int[] dims) {
    int own = dims.length - 2;
    int off = 0;
    for (int d = 0; d < own; d++) {
      int i = idx[idx.length - own + d];
      off = off * dims[d] + (dims[d] == 1 ? 0 : i);
    }
    return off;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void valuesMatchTheReference(int[] ad, int[] bd, boolean ta, boolean tb) {
    double[] av = randoms(1, count(ad));
    double[] bv = randoms(2, count(bd));
    for (DType d : new DType[] {DType.FLOAT64, DType.FLOAT32, DType.INT32}) {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output a = tf.placeholder("a", d, Shape.of(ad));
      Output b = tf.placeholder("b", d, Shape.of(bd));
      Output y = tf.matmul(a, b, ta, tb);
      assertEquals("BatchMatMul", y.op().type());
      double[] ref = reference(av, ad, bv, bd, ta, tb, y.shape().dims());
      Tensor got;
      try (Session s = new Session(g)) {
        got = s.run(Map.of(a, tensor(av, ad, d), b, tensor(bv, bd, d)), y).get(0);
      }
      double[] gv = got.toDoubleArray();
      assertEquals(ref.length, gv.length);
      if (d == DType.INT32) {
        ref = reference(floor(av), ad, floor(bv), bd, ta, tb, y.shape().dims());
      }
      for (int i = 0; i < ref.length; i++) {
        double expected = ref[i];
        assertEquals(expected, gv[i], d == DType.FLOAT32 ? 1e-4 * Math.max(1, Math.abs(expected)) : 1e-9,
            d + " element " + i);
      }
    }
  }

  static double[] floor(double[] v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = (int) v[i];
    }
    return r;
  }

  static Tensor tensor(double[] v, int[] dims, DType d) {
    return switch (d) {
      case FLOAT64 -> Tensor.of(v, dims);
      case FLOAT32 -> {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
          f[i] = (float) v[i];
        }
        yield Tensor.of(f, dims);
      }
      case INT32 -> {
        int[] f = new int[v.length];
        for (int i = 0; i < v.length; i++) {
          f[i] = (int) v[i];
        }
        yield Tensor.of(f, dims);
      }
      default -> throw new AssertionError(d);
    };
  }

  static Stream<Arguments> gradientCases() {
    return cases().limit(8);
  }

  @ParameterizedTest
  @MethodSource("gradientCases")
  void gradientsSumOverBroadcastBatches(int[] ad, int[] bd, boolean ta, boolean tb) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output a = tf.placeholder("a", DType.FLOAT64, Shape.of(ad));
    Output b = tf.placeholder("b", DType.FLOAT64, Shape.of(bd));
    Output y = tf.matmul(a, b, ta, tb);
    GradientChecker.check(y, Map.of(a, Tensor.of(randoms(3, count(ad)), ad), b, Tensor.of(randoms(4, count(bd)), bd)))
        .assertWithin(1e-7);
  }

  @Test
  void largeProductsReachBlasAtOffsetsOnJdk22() {
    org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.version().feature() >= 22 && Blas.ZERO_COPY);
    org.junit.jupiter.api.Assertions.assertTrue(BatchMatMulKernel.Sliced.available(DType.FLOAT32));
    org.junit.jupiter.api.Assertions.assertTrue(BatchMatMulKernel.Sliced.available(DType.FLOAT64));
  }

  @Test
  void rankTwoProductsStayMatMul() {
    Ops tf = Ops.create(new Graph());
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(2, 3));
    assertEquals("MatMul", tf.matmul(a, tf.placeholder("b", DType.FLOAT32, Shape.of(3, 4))).op().type());
  }

  @Test
  void batchDimensionsThatDoNotBroadcastAreAnError() {
    Ops tf = Ops.create(new Graph());
    Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(2, 3, 4));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(3, 4, 5));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.withName("bmm").matmul(a, b));
    assertEquals("BatchMatMul 'bmm': batch dimensions [2] of [2,3,4] and [3] of [3,4,5] do not broadcast",
        e.getMessage());
    Output c = tf.placeholder("c", DType.FLOAT32, Shape.of(2, 5, 4));
    e = assertThrows(IllegalArgumentException.class, () -> tf.withName("bmm2").matmul(a, c));
    assertEquals("BatchMatMul 'bmm2': inner dimensions differ: [2,3,4] x [2,5,4]", e.getMessage());
  }
}
