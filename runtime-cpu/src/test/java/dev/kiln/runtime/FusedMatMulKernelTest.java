package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** FusedMatMul against a triple loop, bias add and activation written here. */
class FusedMatMulKernelTest {
  private static double act(String a, double v) {
    return switch (a) {
      case "relu" -> Math.max(0, v);
      case "sigmoid" -> 1 / (1 + Math.exp(-v));
      case "tanh" -> Math.tanh(v);
      default -> v;
    };
  }

  @Test
  void everyActivationBiasShapeTransposeAndDtype() {
    int[][] sizes = {{2, 3, 4}, {64, 100, 37}, {300, 200, 150}};
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      for (int[] s : sizes) {
        for (String a : List.of("none", "relu", "sigmoid", "tanh")) {
          for (int bias = 0; bias < 3; bias++) { // none, [n], [1,n]
            boolean ta = (s[0] + bias) % 2 == 0;
            boolean tb = a.length() % 2 == 0;
            check(d, s[0], s[1], s[2], a, bias, ta, tb);
          }
        }
      }
    }
  }

  private static void check(DType d, int m, int k, int n, String a, int biasKind, boolean ta, boolean tb) {
    KernelHarness h = new KernelHarness();
    Tensor av = KernelHarness.random(d, m * 7L + k, ta ? k : m, ta ? m : k);
    Tensor bv = KernelHarness.random(d, n * 3L + 1, tb ? n : k, tb ? k : n);
    Tensor biasV = biasKind == 0 ? null : biasKind == 1 ? KernelHarness.random(d, 5, n) : KernelHarness.random(d, 5, 1, n);
    OperationBuilder ob = h.graph.opBuilder("FusedMatMul", "fm").addInput(h.input(av)).addInput(h.input(bv));
    if (biasV != null) {
      ob.addInput(h.input(biasV));
    }
    Operation op = ob.setAttr("transpose_a", ta).setAttr("transpose_b", tb).setAttr("activation", a).build();
    Tensor got = h.runAll(op).get(0);
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
        double b = biasV == null ? 0 : biasV.getDouble(j);
        double want = act(a, sum + b);
        double tol = (k + 2) * eps * (mag + Math.abs(b)) + 4 * eps * Math.abs(want) + Double.MIN_VALUE;
        double v = got.getDouble(i * n + j);
        assertTrue(Math.abs(v - want) <= tol,
            d + " " + m + "x" + k + "x" + n + " " + a + " bias " + biasKind + " [" + i + "," + j + "]: expected " + want + " but was " + v);
      }
    }
  }
}
