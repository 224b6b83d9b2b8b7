package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Gemm (alpha * op(a) op(b) + beta * c) against a triple loop written here, out of place and in place. */
class GemmKernelTest {
  /**
   * m, k, n: a Java-loop product (m*n*k at most 8), BLAS ones, an empty inner dimension, and narrow
   * results (n = 10: with MKL, a^T b, and a b of m = 200, k = 800, run as the transposed product), and
   * a product of few rows (the Vector API loop, for alpha 1 and beta 0 or 1).
   */
  private static final int[][] SIZES = {{1, 2, 3}, {2, 3, 4}, {64, 100, 37}, {3, 0, 5}, {300, 256, 10}, {200, 800, 10},
      {24, 50, 64}};
  /** Alpha 1 with beta 0 or 1 on few rows and whole strips of columns runs the Vector API loop. */
  private static final double[][] SCALES = {{-0.5, 1}, {2, 0}, {1, -1.5}, {-1e-3, 1}, {1, 1}, {1, 0}};

  @Test
  void everyShapeTransposeScaleAndDtypeOutOfPlace() {
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      for (int[] s : SIZES) {
        for (double[] sc : SCALES) {
          for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0;
            boolean tb = (t & 2) != 0;
            KernelHarness h = new KernelHarness();
            Tensor av = KernelHarness.random(d, s[0] * 7L + s[1], ta ? s[1] : s[0], ta ? s[0] : s[1]);
            Tensor bv = KernelHarness.random(d, s[2] * 3L + 1, tb ? s[2] : s[1], tb ? s[1] : s[2]);
            Tensor cv = cValue(d, s[0], s[2], sc[1] == 0);
            Operation op = gemm(h, h.input(av), h.input(bv), h.input(cv), ta, tb, sc[0], sc[1]);
            Tensor got = h.runAll(op).get(0);
            check(d, s, ta, tb, sc, av, bv, cv, got);
          }
        }
      }
    }
  }

  /** The plan writes an update into the variable: the output slot holds c's array itself. */
  @Test
  void inPlaceOnC() {
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      for (int[] s : SIZES) {
        for (double[] sc : SCALES) {
          KernelHarness h = new KernelHarness();
          Tensor av = KernelHarness.random(d, 11, s[1], s[0]);
          Tensor bv = KernelHarness.random(d, 12, s[1], s[2]);
          Tensor cv = cValue(d, s[0], s[2], sc[1] == 0);
          Operation op = gemm(h, h.input(av), h.input(bv), h.input(cv), true, false, sc[0], sc[1]);
          Object a = HostBuffers.array(av);
          Object b = HostBuffers.array(bv);
          Object c = HostBuffers.allocate(d, cv.size() + 2);
          System.arraycopy(HostBuffers.array(cv), 0, c, 0, cv.size());
          Kernel k = Kernels.factory("Gemm").create(new KernelSpec(op, List.of(av.type(), bv.type(), cv.type()),
              op.outputTypes(), new int[] {0, 1, 2}, new int[] {2}));
          Object[] frame = {a, b, c};
          k.run(frame);
          assertTrue(frame[2] == c);
          Object out = HostBuffers.allocate(d, cv.size());
          System.arraycopy(c, 0, out, 0, cv.size());
          check(d, s, true, false, sc, av, bv, cv, HostBuffers.adopt(d, cv.shape(), out));
          assertEquals(av, HostBuffers.adopt(d, av.shape(), a), "a unchanged");
        }
      }
    }
  }

  /** c's elements: random, or NaN where beta is 0 (BLAS does not read c then, so no NaN may show). */
  private static Tensor cValue(DType d, int m, int n, boolean nan) {
    if (!nan) {
      return KernelHarness.random(d, m * 31L + n, m, n);
    }
    double[] v = new double[m * n];
    java.util.Arrays.fill(v, Double.NaN);
    return Ref.tensor(d, v, m, n);
  }

  private static Operation gemm(KernelHarness h, Output a, Output b, Output c, boolean ta, boolean tb, double alpha,
      double beta) {
    return h.graph.opBuilder("Gemm", "update").addInput(a).addInput(b).addInput(c).setAttr("transpose_a", ta)
        .setAttr("transpose_b", tb).setAttr("alpha", alpha).setAttr("beta", beta).build();
  }

  private static void check(DType d, int[] s, boolean ta, boolean tb, double[] sc, Tensor av, Tensor bv, Tensor cv,
      Tensor got) {
    int m = s[0];
    int k = s[1];
    int n = s[2];
    double eps = d == DType.FLOAT32 ? Math.ulp(1f) : Math.ulp(1.0);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0;
        double mag = 0;
        for (int p = 0; p < k; p++) {
          double x = av.getDouble(ta ? p * m + i : i * k + p) * bv.getDouble(tb ? j * k + p : p * n + j);
          sum += x;
          mag += Math.abs(x);
        }
        double c = sc[1] == 0 ? 0 : sc[1] * cv.getDouble(i * n + j);
        double want = sc[0] * sum + c;
        double tol = (k + 3) * eps * (Math.abs(sc[0]) * mag + Math.abs(c)) + 4 * eps * Math.abs(want) + Double.MIN_VALUE;
        double v = got.getDouble(i * n + j);
        assertTrue(Math.abs(v - want) <= tol, d + " " + m + "x" + k + "x" + n + " ta=" + ta + " tb=" + tb + " alpha="
            + sc[0] + " beta=" + sc[1] + " [" + i + "," + j + "]: expected " + want + " but was " + v);
      }
    }
  }
}
