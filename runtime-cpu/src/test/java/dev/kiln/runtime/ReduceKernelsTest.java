package dev.kiln.runtime;

import dev.kiln.runtime.kernels.ColumnSumKernel;

import static dev.kiln.runtime.Ref.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ReduceKernelsTest {
  private static final List<String> REDUCTIONS = List.of("Sum", "Mean", "Max", "Min", "Prod");

  static Stream<Arguments> reductionCases() {
    Object[][] cases = {
        {new int[] {3, 4}, new int[] {0, 1}},
        {new int[] {3, 4}, new int[] {1}},
        {new int[] {3, 4}, new int[] {0}},
        {new int[] {3, 4}, new int[] {}},
        {new int[] {2, 3, 4}, new int[] {0, 2}},
        {new int[] {2, 3, 4}, new int[] {1}},
        {new int[] {2, 3, 4}, new int[] {-1, -3}},
        {new int[] {2, 1, 4}, new int[] {1}},
        {new int[] {5}, new int[] {0}},
        {new int[] {}, new int[] {}},
        {new int[] {0, 3}, new int[] {0}},
        {new int[] {3, 0}, new int[] {0}},
        {new int[] {2, 3, 2, 3}, new int[] {1, 3}},
        {new int[] {300, 400}, new int[] {0}},
        {new int[] {300, 400}, new int[] {1}},
        {new int[] {300, 400}, new int[] {0, 1}},
        {new int[] {300, 400}, new int[] {}},
        {new int[] {40, 50, 60}, new int[] {0, 2}},
    };
    List<Arguments> out = new ArrayList<>();
    for (Object[] c : cases) {
      out.add(Arguments.of(c[0], c[1]));
    }
    return out.stream();
  }

  /** Reference: fold every input element into its output element, in double precision. */
  private static Tensor reference(String type, Tensor x, int[] axes, boolean keep) {
    int[] dims = x.shape().dims();
    boolean[] reduced = new boolean[dims.length];
    for (int a : axes) {
      reduced[a < 0 ? a + dims.length : a] = true;
    }
    int[] kept = dims.clone();
    List<Integer> outDims = new ArrayList<>();
    for (int d = 0; d < dims.length; d++) {
      if (reduced[d]) {
        kept[d] = 1;
      }
      if (!reduced[d] || keep) {
        outDims.add(kept[d]);
      }
    }
    int n = Ref.size(kept);
    double[] acc = new double[n];
    double init = switch (type) {
      case "Prod" -> 1;
      case "Max" -> Double.NEGATIVE_INFINITY;
      case "Min" -> Double.POSITIVE_INFINITY;
      default -> 0;
    };
    Arrays.fill(acc, init);
    long[] count = new long[n];
    for (int i = 0; i < x.size(); i++) {
      int[] idx = Ref.unravel(i, dims);
      for (int d = 0; d < dims.length; d++) {
        if (reduced[d]) {
          idx[d] = 0;
        }
      }
      int o = Ref.ravel(idx, kept);
      double v = x.getDouble(i);
      acc[o] = switch (type) {
        case "Prod" -> acc[o] * v;
        case "Max" -> Math.max(acc[o], v);
        case "Min" -> Math.min(acc[o], v);
        default -> acc[o] + v;
      };
      count[o]++;
    }
    if (type.equals("Mean")) {
      long c = 1;
      for (int d = 0; d < dims.length; d++) {
        c *= reduced[d] ? dims[d] : 1;
      }
      for (int o = 0; o < n; o++) {
        acc[o] = x.dtype().isFloating() ? acc[o] / c : c == 0 ? 0 : (long) acc[o] / c;
      }
    }
    if (!x.dtype().isFloating()) {
      for (int o = 0; o < n; o++) {
        if (Double.isInfinite(acc[o])) {
          acc[o] = x.dtype() == DType.INT32 ? (acc[o] > 0 ? Integer.MAX_VALUE : Integer.MIN_VALUE)
              : (acc[o] > 0 ? Long.MAX_VALUE : Long.MIN_VALUE);
        }
      }
    }
    return Ref.tensor(x.dtype(), acc, outDims.stream().mapToInt(Integer::intValue).toArray());
  }

  private static Output reduce(KernelHarness h, String type, Output x, int[] axes, boolean keep) {
    return switch (type) {
      case "Sum" -> h.tf.reduceSum(x, axes, keep);
      case "Mean" -> h.tf.reduceMean(x, axes, keep);
      case "Max" -> h.tf.reduceMax(x, axes, keep);
      case "Min" -> h.tf.reduceMin(x, axes, keep);
      case "Prod" -> h.tf.reduceProd(x, axes, keep);
      default -> throw new IllegalArgumentException(type);
    };
  }

  @ParameterizedTest
  @MethodSource("reductionCases")
  void reductionsMatchReference(int[] dims, int[] axes) {
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)) {
      for (String type : REDUCTIONS) {
        for (boolean keep : new boolean[] {false, true}) {
          // Values near 1 keep products finite over the large cases.
          Tensor x = Ref.tensor(d, dims, i -> d.isFloating()
              ? 1 + Math.sin(i * 0.7) * 0.01 : (double) ((i * 37 % 11) - 5) / (type.equals("Prod") ? 5 : 1));
          KernelHarness h = new KernelHarness();
          Tensor got = h.run(reduce(h, type, h.input(x), axes, keep));
          assertClose(reference(type, x, axes, keep), got, d == DType.FLOAT32 ? 2e-5 : 1e-12);
        }
      }
    }
  }

  @Test
  void floatSumsAreAccurateOverManyElements() {
    // 1e6 copies of 0.1f: a naive float running sum drifts by ~1%.
    float[] v = new float[1_000_000];
    Arrays.fill(v, 0.1f);
    KernelHarness h = new KernelHarness();
    Tensor got = h.run(h.tf.reduceSum(h.input(Tensor.of(v, v.length))));
    assertEquals(1_000_000 * (double) 0.1f, got.doubleValue(), 1.0);
  }

  @Test
  void trailingAxisReductionsOverManyBlocksAndBothCores() {
    // Rows much longer than a block, rows that straddle block bounds, and a full reduction.
    for (int[] dims : new int[][] {{3, 70_001}, {40_000, 7}, {2, 3, 30_000}, {300_007}}) {
      KernelHarness h = new KernelHarness();
      Tensor xv = KernelHarness.randomF32(dims[0], dims);
      int last = dims.length == 3 ? dims[1] * dims[2] : dims[dims.length - 1];
      int[] axes = dims.length == 3 ? new int[] {1, 2} : new int[] {dims.length - 1};
      Output x = h.input(xv);
      List<Tensor> got = List.of(h.run(h.tf.reduceSum(x, axes, false)), h.run(h.tf.reduceMean(x, axes, true)),
          h.run(h.tf.reduceMax(x, axes, false)), h.run(h.tf.reduceMin(x, axes, false)));
      for (int r = 0; r < xv.size() / last; r++) {
        double sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        double min = Double.POSITIVE_INFINITY;
        for (int c = 0; c < last; c++) {
          double v = xv.getDouble(r * last + c);
          sum += v;
          max = Math.max(max, v);
          min = Math.min(min, v);
        }
        assertEquals(sum, got.get(0).getDouble(r), 1e-6 * Math.max(1, Math.abs(sum)), "sum row " + r);
        assertEquals(sum / last, got.get(1).getDouble(r), 1e-6 * Math.max(1, Math.abs(sum / last)), "mean row " + r);
        assertEquals(max, got.get(2).getDouble(r), "max row " + r);
        assertEquals(min, got.get(3).getDouble(r), "min row " + r);
      }
    }
  }

  @Test
  void maxPropagatesNaN() {
    KernelHarness h = new KernelHarness();
    Tensor got = h.run(h.tf.reduceMax(h.input(Tensor.of(new float[] {1, Float.NaN, 3, 4}, 2, 2)), new int[] {1}, false));
    assertEquals(Tensor.of(new float[] {Float.NaN, 4}, 2), got);
  }

  // ---------------------------------------------------------------------------- column sums

  @Test
  void leadingColumnsFindsSumsOverLeadingAxes() {
    assertEquals(1024, ColumnSumKernel.leadingColumns(new int[] {256, 1024}, new int[] {1024}));
    assertEquals(1024, ColumnSumKernel.leadingColumns(new int[] {256, 1024}, new int[] {1, 1024}));
    assertEquals(12, ColumnSumKernel.leadingColumns(new int[] {5, 3, 4}, new int[] {1, 3, 4}));
    assertEquals(4, ColumnSumKernel.leadingColumns(new int[] {5, 3, 4}, new int[] {1, 1, 4}));
    assertEquals(4, ColumnSumKernel.leadingColumns(new int[] {5, 1, 4}, new int[] {1, 1, 4}));
    assertEquals(0, ColumnSumKernel.leadingColumns(new int[] {5, 3, 4}, new int[] {5, 1, 4}), "a kept axis first");
    assertEquals(0, ColumnSumKernel.leadingColumns(new int[] {5, 4}, new int[] {5, 1}), "trailing reduction");
    assertEquals(0, ColumnSumKernel.leadingColumns(new int[] {5, 4}, new int[] {1, 1}), "full reduction");
    assertEquals(0, ColumnSumKernel.leadingColumns(new int[] {5, 4}, new int[] {5, 4}), "nothing reduced");
  }

  @Test
  void columnSumsMatchAReferenceLoopOnOneCoreAndSplit() {
    // [256,1024] is W2's bias gradient; [1030,1027] is past the split size with ragged columns and
    // rows not a multiple of 4; [7,1,5] has a dim of 1 between; [2,3,4] sums two leading axes.
    int[][][] cases = {{{256, 1024}, {1024}}, {{1030, 1027}, {1, 1027}}, {{7, 1, 5}, {5}}, {{2, 3, 4}, {4}}, {{3, 17}, {17}}};
    for (int[][] c : cases) {
      for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
        Tensor x = KernelHarness.random(d, 30, c[0]);
        Tensor like = KernelHarness.random(d, 31, c[1]);
        KernelHarness h = new KernelHarness();
        Tensor got = h.run(h.tf.reduceSumLike(h.input(x), h.input(like)));
        int cols = like.size();
        double[] want = new double[cols];
        double[] magnitude = new double[cols];
        for (int i = 0; i < x.size(); i++) {
          want[i % cols] += x.getDouble(i);
          magnitude[i % cols] += Math.abs(x.getDouble(i));
        }
        assertEquals(Shape.of(c[1]), got.shape());
        for (int j = 0; j < cols; j++) {
          double tol = (d == DType.FLOAT32 ? 1e-6 : 1e-14) * Math.max(1, magnitude[j]);
          assertEquals(want[j], got.getDouble(j), tol, Arrays.toString(c[0]) + " " + d + " column " + j);
        }
        if (d == DType.FLOAT32) {
          // The documented order, four rows at a time, whether vectorized, scalar or split: exact.
          float[] xs = x.toFloatArray();
          float[] gs = got.toFloatArray();
          int rows = xs.length / cols;
          for (int j = 0; j < cols; j++) {
            float acc = 0f;
            int r = 0;
            for (; r + 3 < rows; r += 4) {
              acc += (xs[r * cols + j] + xs[(r + 1) * cols + j]) + (xs[(r + 2) * cols + j] + xs[(r + 3) * cols + j]);
            }
            for (; r < rows; r++) {
              acc += xs[r * cols + j];
            }
            assertEquals(acc, gs[j], Arrays.toString(c[0]) + " column " + j + " in the documented order");
          }
        }
        // The same sums through the Sum op over all axes but the last.
        KernelHarness hs = new KernelHarness();
        int[] leading = new int[c[0].length - 1];
        Arrays.setAll(leading, a -> a);
        Tensor sum = hs.run(hs.tf.reduceSum(hs.input(x), leading, false));
        for (int j = 0; j < cols; j++) {
          double tol = (d == DType.FLOAT32 ? 1e-6 : 1e-14) * Math.max(1, magnitude[j]);
          assertEquals(want[j], sum.getDouble(j), tol, Arrays.toString(c[0]) + " " + d + " Sum column " + j);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------- ReduceSumLike

  static Stream<Arguments> sumLikeCases() {
    int[][][] cases = {
        {{3, 4}, {4}}, {{3, 4}, {3, 1}}, {{3, 4}, {}}, {{3, 4}, {1, 1}}, {{3, 4}, {3, 4}},
        {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {2, 1, 4}}, {{0, 4}, {4}}, {{512, 300}, {300}}, {{512, 300}, {512, 1}},
    };
    return Arrays.stream(cases).map(c -> Arguments.of(c[0], c[1]));
  }

  @ParameterizedTest
  @MethodSource("sumLikeCases")
  void reduceSumLikeUnbroadcasts(int[] xDims, int[] likeDims) {
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64, DType.INT64)) {
      Tensor x = KernelHarness.random(d, 20, xDims);
      Tensor like = KernelHarness.random(d, 21, likeDims);
      KernelHarness h = new KernelHarness();
      Tensor got = h.run(h.tf.reduceSumLike(h.input(x), h.input(like)));
      double[] want = new double[like.size()];
      for (int i = 0; i < x.size(); i++) {
        want[Ref.broadcastSource(Ref.unravel(i, xDims), likeDims)] += x.getDouble(i);
      }
      // Float column sums accumulate in float, like TensorFlow's.
      assertClose(Ref.tensor(d, want, likeDims), got, d == DType.FLOAT32 ? 1e-4 : 1e-12);
    }
  }

  // ---------------------------------------------------------------------------- ArgMax

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64", "INT32", "INT64"})
  void argMaxFindsTheFirstMaximum(DType d) {
    int[][] shapes = {{4, 5}, {3, 4, 5}, {7}, {2, 1}};
    for (int[] dims : shapes) {
      for (int axis = -dims.length; axis < dims.length; axis++) {
        Tensor x = Ref.tensor(d, dims, i -> (double) (i * 7 % 5)); // ties: the first one wins
        KernelHarness h = new KernelHarness();
        Output am = h.tf.argMax(h.input(x), axis);
        Tensor got = h.run(am);
        int ax = axis < 0 ? axis + dims.length : axis;
        int[] outDims = am.shape().dims();
        long[] want = new long[Ref.size(outDims)];
        for (int o = 0; o < want.length; o++) {
          int[] oi = Ref.unravel(o, outDims);
          int best = -1;
          double bestV = 0;
          for (int j = 0; j < dims[ax]; j++) {
            int[] idx = new int[dims.length];
            for (int q = 0, p = 0; q < dims.length; q++) {
              idx[q] = q == ax ? j : oi[p++];
            }
            double v = x.getDouble(Ref.ravel(idx, dims));
            if (best < 0 || v > bestV) {
              best = j;
              bestV = v;
            }
          }
          want[o] = best;
        }
        assertEquals(Tensor.of(want, outDims), got);
      }
    }
  }

  @Test
  void argMaxWithInt32OutputAndEmptyAxisError() {
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(new float[] {1, 9, 3, 7, 2, 8}, 2, 3));
    Output am = h.tf.opBuilder("ArgMax").addInput(x).setAttr("axis", 1).setAttr("output_type", DType.INT32)
        .build().output(0);
    assertEquals(Tensor.of(new int[] {1, 2}, 2), h.run(am));

    KernelHarness e = new KernelHarness();
    Output bad = e.tf.withName("am").argMax(e.input(Tensor.zeros(DType.FLOAT32, Shape.of(3, 0))), 1);
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> e.run(bad));
    assertEquals("ArgMax 'am': cannot take the maximum over axis 1 of size 0 in [3,0]", ex.getMessage());
  }

  // ---------------------------------------------------------------------------- Softmax

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
  void softmaxAndLogSoftmaxAlongAnyAxis(DType d) {
    int[][] shapes = {{4, 5}, {2, 3, 4}, {6}, {3, 1}, {0, 3}, {300, 500}, {256, 10}, {7, 9}};
    for (int[] dims : shapes) {
      for (int axis = -1; axis < dims.length; axis++) {
        // Large values: a softmax that does not subtract the maximum overflows.
        Tensor x = Ref.tensor(d, dims, i -> 500.0 + (i * 13 % 17) - 8 * Math.cos(i));
        for (boolean log : new boolean[] {false, true}) {
          KernelHarness h = new KernelHarness();
          Output in = h.input(x);
          Tensor got = h.run(log ? h.tf.logSoftmax(in, axis) : h.tf.softmax(in, axis));
          assertClose(softmaxReference(x, axis < 0 ? axis + dims.length : axis, log), got,
              d == DType.FLOAT32 ? 1e-5 : 1e-12);
        }
      }
    }
  }

  private static Tensor softmaxReference(Tensor x, int axis, boolean log) {
    int[] dims = x.shape().dims();
    double[] out = new double[x.size()];
    for (int i = 0; i < out.length; i++) {
      int[] idx = Ref.unravel(i, dims);
      if (idx[axis] != 0) {
        continue; // each line is done from its first element
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < dims[axis]; j++) {
        idx[axis] = j;
        max = Math.max(max, x.getDouble(Ref.ravel(idx, dims)));
      }
      double sum = 0;
      for (int j = 0; j < dims[axis]; j++) {
        idx[axis] = j;
        sum += Math.exp(x.getDouble(Ref.ravel(idx, dims)) - max);
      }
      for (int j = 0; j < dims[axis]; j++) {
        idx[axis] = j;
        int at = Ref.ravel(idx, dims);
        double xi = x.getDouble(at);
        out[at] = log ? xi - max - Math.log(sum) : Math.exp(xi - max) / sum;
      }
    }
    return Ref.tensor(x.dtype(), out, dims);
  }
}
