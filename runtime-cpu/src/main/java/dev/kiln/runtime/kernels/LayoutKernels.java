package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import java.util.List;

/**
 * Data movement for every dtype: Transpose, Concat, Slice, Pad and OneHot. Contiguous runs move with
 * System.arraycopy; only Transpose gathers element by element (in tiles for the 2-D case).
 */
final class LayoutKernels {
  private LayoutKernels() {}

  // ------------------------------------------------------------------------------------ Transpose

  /** Rows of the source one tile of {@link #transpose2d} reads: at most a cache's associativity (8). */
  private static final int TILE_SOURCE_ROWS = 8;
  /** Columns of the source one tile reads: 64 floats, four cache lines of each row. */
  private static final int TILE_SOURCE_COLUMNS = 64;

  static KernelFactory transpose() {
    return spec -> {
      int[] in = KernelSupport.inDims(spec, 0);
      int[] perm = spec.op().attrs().getInts("perm");
      int[] inStrides = KernelSupport.strides(in);
      // Output dimensions (size > 1) with their input strides, adjacent ones merged when contiguous.
      int[] dims = new int[perm.length];
      int[] strides = new int[perm.length];
      int r = 0;
      for (int p : perm) {
        if (in[p] == 1) {
          continue;
        }
        if (r > 0 && strides[r - 1] == inStrides[p] * in[p]) {
          dims[r - 1] *= in[p];
          strides[r - 1] = inStrides[p];
        } else {
          dims[r] = in[p];
          strides[r] = inStrides[p];
          r++;
        }
      }
      int n = KernelSupport.size(spec.inputs().get(0));
      int src = spec.inputSlots()[0];
      int dst = spec.outputSlots()[0];
      if (n == 0) {
        return frame -> { };
      }
      if (r <= 1) {
        return frame -> System.arraycopy(frame[src], 0, frame[dst], 0, n);
      }
      if (r == 2 && strides[1] != 1) {
        int rows = dims[0];
        int cols = dims[1];
        return frame -> transpose2d(frame[src], frame[dst], rows, cols);
      }
      int[] outer = java.util.Arrays.copyOf(dims, r - 1);
      int[] outerStrides = java.util.Arrays.copyOf(strides, r - 1);
      int len = dims[r - 1];
      int step = strides[r - 1];
      return frame -> gatherRows(frame[src], frame[dst], outer, outerStrides, len, step);
    };
  }

  /**
   * dst[i, j] = src[j, i] for dst of shape [rows, cols], in tiles that stay in cache. A tile reads only
   * {@link #TILE_SOURCE_ROWS} rows of src: with a power-of-two row length those rows all fall in the
   * same cache set, and more of them than the cache's ways evict each other before their lines are
   * used up; a tile of few, long source rows keeps each line in use until it is read through.
   */
  private static void transpose2d(Object src, Object dst, int rows, int cols) {
    for (int i0 = 0; i0 < rows; i0 += TILE_SOURCE_COLUMNS) {
      int i1 = Math.min(rows, i0 + TILE_SOURCE_COLUMNS);
      for (int j0 = 0; j0 < cols; j0 += TILE_SOURCE_ROWS) {
        int j1 = Math.min(cols, j0 + TILE_SOURCE_ROWS);
        for (int i = i0; i < i1; i++) {
          gather(src, i + j0 * rows, rows, dst, i * cols + j0, j1 - j0);
        }
      }
    }
  }

  private static void gatherRows(Object src, Object dst, int[] outer, int[] outerStrides, int len, int step) {
    int rows = 1;
    for (int d : outer) {
      rows *= d;
    }
    for (int row = 0; row < rows; row++) {
      int rem = row;
      int from = 0;
      for (int d = outer.length - 1; d >= 0; d--) {
        int idx = rem % outer[d];
        rem /= outer[d];
        from += idx * outerStrides[d];
      }
      if (step == 1) {
        System.arraycopy(src, from, dst, row * len, len);
      } else {
        gather(src, from, step, dst, row * len, len);
      }
    }
  }

  /** dst[to + i] = src[from + i * step] for i < n. */
  private static void gather(Object src, int from, int step, Object dst, int to, int n) {
    switch (src) {
      case float[] s -> {
        float[] d = (float[]) dst;
        for (int i = 0; i < n; i++) d[to + i] = s[from + i * step];
      }
      case double[] s -> {
        double[] d = (double[]) dst;
        for (int i = 0; i < n; i++) d[to + i] = s[from + i * step];
      }
      case int[] s -> {
        int[] d = (int[]) dst;
        for (int i = 0; i < n; i++) d[to + i] = s[from + i * step];
      }
      case long[] s -> {
        long[] d = (long[]) dst;
        for (int i = 0; i < n; i++) d[to + i] = s[from + i * step];
      }
      case boolean[] s -> {
        boolean[] d = (boolean[]) dst;
        for (int i = 0; i < n; i++) d[to + i] = s[from + i * step];
      }
      default -> throw new AssertionError(src.getClass());
    }
  }

  // --------------------------------------------------------------------------------------- Concat

  static KernelFactory concat() {
    return spec -> {
      int[] out = KernelSupport.outDims(spec, 0);
      int axis = KernelSupport.axis(spec.op().attrs().getLong("axis"), out.length);
      int outer = Math.toIntExact(KernelSupport.product(out, 0, axis));
      int inner = Math.toIntExact(KernelSupport.product(out, axis + 1, out.length));
      int k = spec.inputs().size();
      int[] len = new int[k];   // elements each input contributes per outer index
      int[] at = new int[k];    // where they start within an output block
      int block = 0;
      for (int i = 0; i < k; i++) {
        len[i] = KernelSupport.inDims(spec, i)[axis] * inner;
        at[i] = block;
        block += len[i];
      }
      int[] src = spec.inputSlots().clone();
      int dst = spec.outputSlots()[0];
      int blockSize = block;
      return frame -> {
        Object y = frame[dst];
        for (int i = 0; i < k; i++) {
          Object x = frame[src[i]];
          for (int o = 0; o < outer; o++) {
            System.arraycopy(x, o * len[i], y, o * blockSize + at[i], len[i]);
          }
        }
      };
    };
  }

  // ---------------------------------------------------------------------------------------- Slice

  static KernelFactory slice() {
    return spec -> {
      int[] in = KernelSupport.inDims(spec, 0);
      int[] out = KernelSupport.outDims(spec, 0);
      int[] begin = spec.op().attrs().getInts("begin");
      int[] inStrides = KernelSupport.strides(in);
      // Trailing dimensions taken whole are contiguous: copy them with the last partial one as a run.
      int k = out.length - 1;
      while (k > 0 && begin[k] == 0 && out[k] == in[k]) {
        k--;
      }
      int n = KernelSupport.size(spec.outputs().get(0));
      int run = k < 0 ? 1 : Math.toIntExact(KernelSupport.product(out, k, out.length));
      int first = 0;
      for (int d = 0; d < in.length; d++) {
        first += begin[d] * inStrides[d];
      }
      int[] outer = k < 0 ? new int[0] : java.util.Arrays.copyOf(out, k);
      int[] outerStrides = k < 0 ? new int[0] : java.util.Arrays.copyOf(inStrides, k);
      int src = spec.inputSlots()[0];
      int dst = spec.outputSlots()[0];
      int start = first;
      if (n == 0) {
        return frame -> { };
      }
      return frame -> copyRows(frame[src], start, outer, outerStrides, frame[dst], run);
    };
  }

  /** Copies each run of {@code run} elements of a strided source into a dense destination. */
  private static void copyRows(Object src, int start, int[] outer, int[] strides, Object dst, int run) {
    int rows = 1;
    for (int d : outer) {
      rows *= d;
    }
    for (int row = 0; row < rows; row++) {
      int rem = row;
      int from = start;
      for (int d = outer.length - 1; d >= 0; d--) {
        from += (rem % outer[d]) * strides[d];
        rem /= outer[d];
      }
      System.arraycopy(src, from, dst, row * run, run);
    }
  }

  // ------------------------------------------------------------------------------------------ Pad

  static KernelFactory pad() {
    return spec -> {
      int[] in = KernelSupport.inDims(spec, 0);
      int[] out = KernelSupport.outDims(spec, 0);
      List<Long> p = spec.op().attrs().getLongs("paddings");
      DType d = KernelSupport.outDType(spec, 0);
      int[] outStrides = KernelSupport.strides(out);
      int nOut = KernelSupport.size(spec.outputs().get(0));
      int nIn = KernelSupport.size(spec.inputs().get(0));
      int src = spec.inputSlots()[0];
      int dst = spec.outputSlots()[0];
      if (in.length == 0) {
        return frame -> System.arraycopy(frame[src], 0, frame[dst], 0, 1);
      }
      int r = in.length;
      int first = 0;
      for (int i = 0; i < r; i++) {
        first += Math.toIntExact(p.get(2 * i)) * outStrides[i];
      }
      int run = in[r - 1];
      int[] rowsDims = java.util.Arrays.copyOf(in, r - 1);
      int[] rowStrides = java.util.Arrays.copyOf(outStrides, r - 1);
      int start = first;
      return frame -> {
        Object y = frame[dst];
        FillKernels.fill(d, y, nOut, 0);
        if (nIn > 0) {
          scatterRows(frame[src], y, start, rowsDims, rowStrides, run);
        }
      };
    };
  }

  /** Copies dense runs of {@code run} source elements to strided places in the destination. */
  private static void scatterRows(Object src, Object dst, int start, int[] outer, int[] strides, int run) {
    int rows = 1;
    for (int d : outer) {
      rows *= d;
    }
    for (int row = 0; row < rows; row++) {
      int rem = row;
      int to = start;
      for (int d = outer.length - 1; d >= 0; d--) {
        to += (rem % outer[d]) * strides[d];
        rem /= outer[d];
      }
      System.arraycopy(src, row * run, dst, to, run);
    }
  }

  // --------------------------------------------------------------------------------------- OneHot

  /** OneHot: on_value where the index equals the position on the new last axis, else off_value. */
  static KernelFactory oneHot() {
    return spec -> {
      int depth = spec.op().attrs().getInt("depth");
      double on = spec.op().attrs().getDouble("on_value");
      double off = spec.op().attrs().getDouble("off_value");
      DType d = KernelSupport.outDType(spec, 0);
      int n = KernelSupport.size(spec.inputs().get(0));
      int src = spec.inputSlots()[0];
      int dst = spec.outputSlots()[0];
      if (d == DType.BOOL) {
        throw KernelSupport.unsupported(spec, d);
      }
      return frame -> {
        Object y = frame[dst];
        FillKernels.fill(d, y, n * depth, off);
        Object x = frame[src];
        for (int i = 0; i < n; i++) {
          long idx = x instanceof int[] a ? a[i] : ((long[]) x)[i];
          if (idx >= 0 && idx < depth) {
            set(d, y, i * depth + (int) idx, on);
          }
        }
      };
    };
  }

  private static void set(DType d, Object y, int i, double v) {
    switch (d) {
      case FLOAT32 -> ((float[]) y)[i] = (float) v;
      case FLOAT64 -> ((double[]) y)[i] = v;
      case INT32 -> ((int[]) y)[i] = (int) v;
      case INT64 -> ((long[]) y)[i] = (long) v;
      case BOOL -> throw new AssertionError(d);
    }
  }
}
