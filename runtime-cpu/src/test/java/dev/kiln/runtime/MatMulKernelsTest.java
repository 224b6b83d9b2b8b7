package dev.kiln.runtime;

import dev.kiln.runtime.blas.GemmSplit;

import dev.kiln.runtime.blas.Blas;
import dev.kiln.runtime.kernels.MatMulKernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class MatMulKernelsTest {
  /**
   * {m, k, n}: Java-loop sizes, BLAS sizes, ones, the seed network's 64x1000x100, and narrow results
   * (with MKL, a^T b of n = 10, and a b of n = 10, m = 200, k = 800, run as the transposed product), and
   * products of few rows that the Vector API loop runs.
   */
  private static final int[][] SIZES = {{2, 2, 2}, {1, 3, 2}, {1, 1, 1}, {2, 3, 4}, {5, 1, 7}, {17, 33, 9},
      {16, 16, 16}, {64, 1000, 100}, {31, 70, 129}, {1, 300, 1}, {300, 256, 10}, {200, 800, 10},
      // few rows and whole strips of columns: the Vector API loop (8-row blocks, then single rows)
      {32, 256, 1024}, {13, 40, 64}, {8, 5, 32}, {32, 300, 96}, {64, 300, 96}, {1, 70, 64}};

  /** Naive triple loop in double over the logical (untransposed) operands. */
  private static Tensor reference(Tensor a, Tensor b, boolean ta, boolean tb, DType d) {
    int[] da = a.shape().dims();
    int[] db = b.shape().dims();
    int m = ta ? da[1] : da[0];
    int k = ta ? da[0] : da[1];
    int n = tb ? db[0] : db[1];
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          s += a.getDouble(ta ? p * m + i : i * k + p) * b.getDouble(tb ? j * k + p : p * n + j);
        }
        c[i * n + j] = s;
      }
    }
    return Ref.tensor(d, c, m, n);
  }

  /** Sum over p of |a(i,p) * b(p,j)| for each output: the scale of the rounding error. */
  private static double[] magnitudes(Tensor a, Tensor b, boolean ta, boolean tb) {
    Tensor absA = Ref.tensor(DType.FLOAT64, a.shape().dims(), i -> Math.abs(a.getDouble(i)));
    Tensor absB = Ref.tensor(DType.FLOAT64, b.shape().dims(), i -> Math.abs(b.getDouble(i)));
    return reference(absA, absB, ta, tb, DType.FLOAT64).toDoubleArray();
  }

  /** The classic bound for a k-term dot product: |error| <= k * eps * sum |a b|. */
  private static void assertWithinDotProductBound(Tensor want, Tensor got, double[] scale, int k, DType d) {
    assertEquals(want.type(), got.type());
    double eps = d == DType.FLOAT32 ? Math.ulp(1f) : Math.ulp(1.0);
    for (int i = 0; i < scale.length; i++) {
      double err = Math.abs(want.getDouble(i) - got.getDouble(i));
      assertTrue(err <= k * eps * scale[i] + Double.MIN_VALUE,
          "element " + i + ": expected " + want.getDouble(i) + " but was " + got.getDouble(i));
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64", "INT32", "INT64"})
  void allTransposeCombinationsMatchTripleLoop(DType d) {
    for (int[] s : SIZES) {
      int m = s[0];
      int k = s[1];
      int n = s[2];
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          Tensor a = KernelHarness.random(d, 31, ta ? k : m, ta ? m : k);
          Tensor b = KernelHarness.random(d, 32, tb ? n : k, tb ? k : n);
          KernelHarness h = new KernelHarness();
          Tensor got = h.run(h.tf.matmul(h.input(a), h.input(b), ta, tb));
          Tensor want = reference(a, b, ta, tb, d);
          if (d.isFloating()) {
            assertWithinDotProductBound(want, got, magnitudes(a, b, ta, tb), k, d);
          } else {
            assertEquals(want, got);
          }
        }
      }
    }
  }

  @Test
  void javaLoopsUsedWithoutOpenBlasMatchTheTripleLoop() {
    int m = 17;
    int k = 33;
    int n = 9;
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        Tensor a = KernelHarness.randomF32(41, ta ? k : m, ta ? m : k);
        Tensor b = KernelHarness.randomF32(42, tb ? n : k, tb ? k : n);
        float[] c = new float[m * n];
        MatMulKernels.f32(ta, tb, m, n, k, a.toFloatArray(), b.toFloatArray(), c);
        assertWithinDotProductBound(reference(a, b, ta, tb, DType.FLOAT32), Tensor.of(c, m, n),
            magnitudes(a, b, ta, tb), k, DType.FLOAT32);
        Tensor ad = KernelHarness.randomF64(43, ta ? k : m, ta ? m : k);
        Tensor bd = KernelHarness.randomF64(44, tb ? n : k, tb ? k : n);
        double[] cd = new double[m * n];
        MatMulKernels.f64(ta, tb, m, n, k, ad.toDoubleArray(), bd.toDoubleArray(), cd);
        assertWithinDotProductBound(reference(ad, bd, ta, tb, DType.FLOAT64), Tensor.of(cd, m, n),
            magnitudes(ad, bd, ta, tb), k, DType.FLOAT64);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64", "INT32", "INT64"})
  void emptyProducts(DType d) {
    int[][] sizes = {{0, 3, 4}, {3, 4, 0}, {3, 0, 4}, {0, 0, 0}};
    for (int[] s : sizes) {
      KernelHarness h = new KernelHarness();
      Tensor a = KernelHarness.random(d, 1, s[0], s[1]);
      Tensor b = KernelHarness.random(d, 2, s[1], s[2]);
      Tensor got = h.run(h.tf.matmul(h.input(a), h.input(b)));
      // An empty inner dimension gives zeros (the harness starts outputs as garbage).
      assertEquals(Ref.tensor(d, new double[s[0] * s[2]], s[0], s[2]), got);
    }
  }

  /**
   * One-row products (a vector times a weight matrix, which go to gemv) against the reference, c starting as
   * NaN; the larger size is past the weights from which gemv is split by columns over the pool.
   */
  @ParameterizedTest
  @CsvSource({"300, 257", "600, 333"})
  void oneRowProductsMatchTheTripleLoop(int k, int n) {
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        Tensor a = KernelHarness.randomF32(51, ta ? k : 1, ta ? 1 : k);
        Tensor b = KernelHarness.randomF32(52, tb ? n : k, tb ? k : n);
        float[] c = new float[n];
        java.util.Arrays.fill(c, Float.NaN);
        Blas.sgemm(ta, tb, 1, n, k, a.toFloatArray(), b.toFloatArray(), c);
        double[] scale = magnitudes(a, b, ta, tb);
        assertWithinDotProductBound(reference(a, b, ta, tb, DType.FLOAT32), Tensor.of(c, 1, n), scale, k, DType.FLOAT32);
        // beta 1 accumulates onto c: twice the product.
        Blas.sgemm(ta, tb, 1, n, k, 1f, a.toFloatArray(), b.toFloatArray(), 1f, c);
        Tensor twice = Ref.tensor(DType.FLOAT32, new int[] {1, n}, i -> 2 * reference(a, b, ta, tb, DType.FLOAT64).getDouble(i));
        assertWithinDotProductBound(twice, Tensor.of(c, 1, n), java.util.Arrays.stream(scale).map(v -> 2 * v).toArray(),
            k + 1, DType.FLOAT32);
        Tensor ad = KernelHarness.randomF64(53, ta ? k : 1, ta ? 1 : k);
        Tensor bd = KernelHarness.randomF64(54, tb ? n : k, tb ? k : n);
        double[] cd = new double[n];
        java.util.Arrays.fill(cd, Double.NaN);
        Blas.dgemm(ta, tb, 1, n, k, ad.toDoubleArray(), bd.toDoubleArray(), cd);
        assertWithinDotProductBound(reference(ad, bd, ta, tb, DType.FLOAT64), Tensor.of(cd, 1, n),
            magnitudes(ad, bd, ta, tb), k, DType.FLOAT64);
      }
    }
  }

  @Test
  void zeroCopyAndCopyingCallsAgree() {
    int m = 37;
    int k = 53;
    int n = 29;
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        float[] a = KernelHarness.randomF32(3, m * k).toFloatArray();
        float[] b = KernelHarness.randomF32(4, k * n).toFloatArray();
        float[] c1 = new float[m * n];
        float[] c2 = new float[m * n];
        Blas.sgemm(ta, tb, m, n, k, a, b, c1);
        Blas.sgemmCopying(ta, tb, m, n, k, a, b, c2);
        assertArrayEquals(c2, c1);
        double[] ad = KernelHarness.randomF64(5, m * k).toDoubleArray();
        double[] bd = KernelHarness.randomF64(6, k * n).toDoubleArray();
        double[] d1 = new double[m * n];
        double[] d2 = new double[m * n];
        Blas.dgemm(ta, tb, m, n, k, ad, bd, d1);
        Blas.dgemmCopying(ta, tb, m, n, k, ad, bd, d2);
        assertArrayEquals(d2, d1);
      }
    }
  }

  @Test
  void productsSplitOverTheCoresMatchAFloat64Reference() {
    // m >= n splits c's rows, m < n its columns; both above the split threshold
    int[][] sizes = {{300, 150, 100}, {100, 150, 300}};
    for (int[] s : sizes) {
      int m = s[0];
      int k = s[1];
      int n = s[2];
      assertTrue(Blas.SPLIT_ABOVE > 0 && (long) m * n * k >= Blas.SPLIT_ABOVE, "the sizes must reach the split");
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          float[] a = KernelHarness.randomF32(7, m * k).toFloatArray();
          float[] b = KernelHarness.randomF32(8, k * n).toFloatArray();
          float[] c = KernelHarness.randomF32(9, m * n).toFloatArray();
          float[] want = new float[m * n];
          for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
              double sum = 0;
              for (int q = 0; q < k; q++) {
                sum += (double) (ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
              }
              want[i * n + j] = (float) (0.5 * sum + 2.0 * c[i * n + j]);
            }
          }
          Blas.sgemm(ta, tb, m, n, k, 0.5f, a, b, 2f, c);
          for (int i = 0; i < m * n; i++) {
            assertEquals(want[i], c[i], 1e-4 * (1 + Math.abs(want[i])),
                "c[" + i + "] of " + m + "x" + k + "x" + n + " ta=" + ta + " tb=" + tb);
          }
        }
      }
    }
  }

  @Test
  void openBlasRunsOnOneThreadWhenKilnOwnsTheCores() {
    // OpenBLAS's own pool starts with one thread per core; Kiln's pool splits large products instead
    Blas.sgemm(false, false, 300, 100, 150, new float[300 * 150], new float[150 * 100], new float[300 * 100]);
    if (Blas.USED == Blas.Library.OPENBLAS && Blas.KILN_THREADS) {
      assertEquals(java.util.OptionalInt.of(1), Blas.openBlasThreads());
    }
  }

  @Test
  void splitPiecesTileTheProductOnce() {
    int[][] sizes = {{300, 7, 100}, {100, 7, 300}, {17, 3, 5}, {5, 3, 40}};
    for (int[] s : sizes) {
      int m = s[0];
      int n = s[2];
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          int k = s[1];
          int[] covered = new int[m * n];
          GemmSplit.split(ta, tb, m, n, k, (pm, pn, aOff, bOff, cOff) -> {
            int row0 = (int) (cOff / n);
            int col0 = (int) (cOff % n);
            // the operands' offsets point at the piece's first row (a) or column (b)
            assertEquals(ta ? row0 : (long) row0 * k, aOff);
            assertEquals(tb ? (long) col0 * k : col0, bOff);
            synchronized (covered) {
              for (int i = row0; i < row0 + pm; i++) {
                for (int j = col0; j < col0 + pn; j++) {
                  covered[i * n + j]++;
                }
              }
            }
          });
          for (int i = 0; i < covered.length; i++) {
            assertEquals(1, covered[i], "element " + i + " of " + m + "x" + n);
          }
        }
      }
    }
  }

  @Test
  void zeroCopyOnJdk22AndLater() {
    if (Runtime.version().feature() >= 22 && !Boolean.getBoolean("kiln.blas.copying")) {
      assertTrue(Blas.ZERO_COPY, "critical downcalls are available from JDK 22");
    }
  }

  @Test
  void intelCpusUseMkl() throws Exception {
    String vendor = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("vendor_id")).findFirst().orElse("").replaceAll(".*:\\s*", "");
    System.out.println("BLAS: " + Blas.describe() + " on " + vendor);
    boolean auto = System.getProperty("kiln.blas", "auto").equals("auto") && !Boolean.getBoolean("kiln.blas.copying")
        && Blas.ZERO_COPY;
    if (auto) {
      assertEquals(vendor.equals("GenuineIntel") ? Blas.Library.MKL : Blas.Library.OPENBLAS, Blas.USED);
    }
  }

  @Test
  void avx512MachinesGetSkylakeXKernels() throws Exception {
    String flags = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("flags")).findFirst().orElse("");
    boolean avx512 = List.of(flags.split("\\s+")).contains("avx512f");
    if (avx512 && System.getenv(Blas.CORETYPE) == null) {
      assertEquals("SKYLAKEX", Blas.FORCED_CORETYPE.orElseThrow());
      assertEquals("skylakex", Blas.coreName().toLowerCase(java.util.Locale.ROOT));
    } else {
      assertTrue(Blas.FORCED_CORETYPE.isEmpty());
    }
  }
}
