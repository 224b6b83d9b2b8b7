package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/** Tile and BroadcastTo (one repeating copy), Cumsum, TopK, Range and ArgMin. */
final class ArrayKernels {
  private ArrayKernels() {}

  static KernelFactory tile() {
    return spec -> repeat(spec, KernelSupport.inDims(spec, 0), spec.op().attrs().getInts("multiples"));
  }

  /** BroadcastTo is a tile of the input (its rank padded with leading 1s) by out / in along each axis. */
  static KernelFactory broadcastTo() {
    return spec -> {
      int[] out = KernelSupport.outDims(spec, 0);
      int[] in = KernelSupport.inDims(spec, 0);
      int[] padded = new int[out.length];
      int[] mult = new int[out.length];
      for (int i = 0; i < out.length; i++) {
        int e = i - (out.length - in.length);
        padded[i] = e >= 0 ? in[e] : 1;
        mult[i] = padded[i] == out[i] ? 1 : out[i];
      }
      return repeat(spec, padded, mult);
    };
  }

  /** out = in repeated mult[i] times along each axis i (in and mult of the output's rank). */
  private static Kernel repeat(KernelSpec spec, int[] in, int[] mult) {
    int r = in.length;
    int[] out = KernelSupport.outDims(spec, 0);
    int src = spec.inputSlots()[0];
    int dst = spec.outputSlots()[0];
    if (KernelSupport.size(spec.outputs().get(0)) == 0) {
      return frame -> { };
    }
    if (r == 0) {
      return frame -> System.arraycopy(frame[src], 0, frame[dst], 0, 1);
    }
    int[] inStrides = KernelSupport.strides(in);
    int[] outStrides = KernelSupport.strides(out);
    return frame -> repeat(frame[src], frame[dst], in, mult, inStrides, outStrides, 0, 0, 0);
  }

  /** Writes the block of axis d at in[inOff] / out[outOff]: its first copy recursively, then its repeats. */
  private static void repeat(Object x, Object y, int[] in, int[] mult, int[] inStrides, int[] outStrides, int d,
      int inOff, int outOff) {
    int block = in[d] * (d + 1 < in.length ? outStrides[d] : 1);
    if (d + 1 == in.length) {
      if (in[d] == 1 && mult[d] > 1) {
        // One element repeated: copy it, then double the copied run.
        System.arraycopy(x, inOff, y, outOff, 1);
        for (int done = 1; done < mult[d]; done *= 2) {
          System.arraycopy(y, outOff, y, outOff + done, Math.min(done, mult[d] - done));
        }
        return;
      }
      System.arraycopy(x, inOff, y, outOff, in[d]);
    } else {
      for (int i = 0; i < in[d]; i++) {
        repeat(x, y, in, mult, inStrides, outStrides, d + 1, inOff + i * inStrides[d], outOff + i * outStrides[d]);
      }
    }
    for (int t = 1; t < mult[d]; t++) {
      System.arraycopy(y, outOff, y, outOff + t * block, block);
    }
  }

  /** Running sums along an axis of the [outer, n, inner] view, row by row of inner elements. */
  static KernelFactory cumsum() {
    return spec -> {
      int[] dims = KernelSupport.inDims(spec, 0);
      int axis = KernelSupport.axis(spec.op().attrs().getLong("axis"), dims.length);
      boolean exclusive = spec.op().attrs().getBool("exclusive");
      boolean reverse = spec.op().attrs().getBool("reverse");
      int outer = Math.toIntExact(KernelSupport.product(dims, 0, axis));
      int n = dims[axis];
      int inner = Math.toIntExact(KernelSupport.product(dims, axis + 1, dims.length));
      DType d = KernelSupport.inDType(spec, 0);
      int src = spec.inputSlots()[0];
      int dst = spec.outputSlots()[0];
      return frame -> {
        Object x = frame[src];
        Object y = frame[dst];
        for (int o = 0; o < outer; o++) {
          int base = o * n * inner;
          for (int t = 0; t < n; t++) {
            int row = base + (reverse ? n - 1 - t : t) * inner;
            if (t == 0) {
              if (exclusive) {
                fillRange(d, y, row, inner);
              } else {
                System.arraycopy(x, row, y, row, inner);
              }
            } else {
              int prev = base + (reverse ? n - t : t - 1) * inner;
              addRows(y, prev, x, exclusive ? prev : row, y, row, inner);
            }
          }
        }
      };
    };
  }

  private static void fillRange(DType d, Object y, int from, int n) {
    switch (d) {
      case FLOAT32 -> java.util.Arrays.fill((float[]) y, from, from + n, 0f);
      case FLOAT64 -> java.util.Arrays.fill((double[]) y, from, from + n, 0.0);
      case INT32 -> java.util.Arrays.fill((int[]) y, from, from + n, 0);
      case INT64 -> java.util.Arrays.fill((long[]) y, from, from + n, 0L);
      case BOOL -> throw new AssertionError(d);
    }
  }

  /** z[zo..] = a[ao..] + b[bo..], n elements. */
  private static void addRows(Object a, int ao, Object b, int bo, Object z, int zo, int n) {
    switch (z) {
      case float[] r -> {
        float[] x = (float[]) a;
        float[] y = (float[]) b;
        for (int j = 0; j < n; j++) {
          r[zo + j] = x[ao + j] + y[bo + j];
        }
      }
      case double[] r -> {
        double[] x = (double[]) a;
        double[] y = (double[]) b;
        for (int j = 0; j < n; j++) {
          r[zo + j] = x[ao + j] + y[bo + j];
        }
      }
      case int[] r -> {
        int[] x = (int[]) a;
        int[] y = (int[]) b;
        for (int j = 0; j < n; j++) {
          r[zo + j] = x[ao + j] + y[bo + j];
        }
      }
      case long[] r -> {
        long[] x = (long[]) a;
        long[] y = (long[]) b;
        for (int j = 0; j < n; j++) {
          r[zo + j] = x[ao + j] + y[bo + j];
        }
      }
      default -> throw new AssertionError(z.getClass());
    }
  }

  /**
   * The k largest of each row of the last axis, largest first; among equal values the lower index
   * comes first, and NaN counts as larger than every number (Float.compare's order). A min-heap of
   * k indices per row: O(n log k).
   */
  static KernelFactory topK() {
    return spec -> {
      int[] dims = KernelSupport.inDims(spec, 0);
      int n = dims[dims.length - 1];
      int rows = n == 0 ? 0 : KernelSupport.size(spec.inputs().get(0)) / n;
      int k = spec.op().attrs().getInt("k");
      boolean sorted = spec.op().attrs().getBool("sorted", true);
      int src = spec.inputSlots()[0];
      int vals = spec.outputSlots()[0];
      int inds = spec.outputSlots()[1];
      if (k == 0 || rows == 0) {
        return frame -> { };
      }
      ScratchPool<int[]> heaps = new ScratchPool<>(() -> new int[k]);
      return frame -> {
        Object x = frame[src];
        int[] heap = heaps.take();
        try {
          for (int r = 0; r < rows; r++) {
            topRow(x, r * n, n, k, heap, sorted);
            int[] idx = (int[]) frame[inds];
            for (int j = 0; j < k; j++) {
              idx[r * k + j] = heap[j];
              System.arraycopy(x, r * n + heap[j], frame[vals], r * k + j, 1);
            }
          }
        } finally {
          heaps.give(heap);
        }
      };
    };
  }

  /** heap[0..k) = the row's top k indices (relative to base), best first, or in index order when not sorted. */
  private static void topRow(Object x, int base, int n, int k, int[] heap, boolean sorted) {
    // heap holds the best k seen so far as a min-heap under better(): heap[0] is the worst of them.
    for (int i = 0; i < k; i++) {
      heap[i] = i;
      siftUp(x, base, heap, i);
    }
    for (int i = k; i < n; i++) {
      if (better(x, base, i, heap[0])) {
        heap[0] = i;
        siftDown(x, base, heap, k);
      }
    }
    if (!sorted) {
      java.util.Arrays.sort(heap, 0, k);
      return;
    }
    // Heap sort in place: repeatedly move the worst to the end, leaving the best first.
    for (int end = k - 1; end > 0; end--) {
      int t = heap[0];
      heap[0] = heap[end];
      heap[end] = t;
      siftDown(x, base, heap, end);
    }
  }

  private static void siftUp(Object x, int base, int[] heap, int i) {
    while (i > 0) {
      int parent = (i - 1) / 2;
      if (!better(x, base, heap[parent], heap[i])) {
        return;
      }
      int t = heap[parent];
      heap[parent] = heap[i];
      heap[i] = t;
      i = parent;
    }
  }

  private static void siftDown(Object x, int base, int[] heap, int size) {
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      int r = l + 1;
      int worst = i;
      if (l < size && better(x, base, heap[worst], heap[l])) {
        worst = l;
      }
      if (r < size && better(x, base, heap[worst], heap[r])) {
        worst = r;
      }
      if (worst == i) {
        return;
      }
      int t = heap[worst];
      heap[worst] = heap[i];
      heap[i] = t;
      i = worst;
    }
  }

  /** Whether element i of the row ranks before element j: larger, or equal with the lower index. */
  private static boolean better(Object x, int base, int i, int j) {
    int c = switch (x) {
      case float[] a -> Float.compare(a[base + i], a[base + j]);
      case double[] a -> Double.compare(a[base + i], a[base + j]);
      case int[] a -> Integer.compare(a[base + i], a[base + j]);
      case long[] a -> Long.compare(a[base + i], a[base + j]);
      default -> throw new AssertionError(x.getClass());
    };
    return c > 0 || (c == 0 && i < j);
  }

  static KernelFactory range() {
    return spec -> {
      double start = spec.op().attrs().getDouble("start");
      double delta = spec.op().attrs().getDouble("delta");
      int n = KernelSupport.size(spec.outputs().get(0));
      int dst = spec.outputSlots()[0];
      return frame -> {
        switch (frame[dst]) {
          case float[] y -> {
            for (int i = 0; i < n; i++) {
              y[i] = (float) (start + i * delta);
            }
          }
          case double[] y -> {
            for (int i = 0; i < n; i++) {
              y[i] = start + i * delta;
            }
          }
          case int[] y -> {
            for (int i = 0; i < n; i++) {
              y[i] = (int) (start + i * delta);
            }
          }
          case long[] y -> {
            for (int i = 0; i < n; i++) {
              y[i] = (long) (start + i * delta);
            }
          }
          default -> throw new AssertionError(frame[dst].getClass());
        }
      };
    };
  }

  /** The first index of the minimum along an axis; NaN never wins after the first element (as ArgMax). */
  static KernelFactory argMin() {
    return spec -> {
      int[] dims = KernelSupport.inDims(spec, 0);
      int axis = KernelSupport.axis(spec.op().attrs().getLong("axis"), dims.length);
      int outer = Math.toIntExact(KernelSupport.product(dims, 0, axis));
      int n = dims[axis];
      int inner = Math.toIntExact(KernelSupport.product(dims, axis + 1, dims.length));
      if (n == 0 && outer * inner > 0) {
        throw KernelSupport.error(spec, "cannot take the minimum over axis %d of size 0 in %s", axis,
            spec.inputs().get(0).shape());
      }
      boolean wide = KernelSupport.outDType(spec, 0) == DType.INT64;
      int src = spec.inputSlots()[0];
      int dst = spec.outputSlots()[0];
      return frame -> {
        Object x = frame[src];
        for (int o = 0; o < outer; o++) {
          for (int j = 0; j < inner; j++) {
            int base = o * n * inner + j;
            int best = 0;
            for (int i = 1; i < n; i++) {
              if (less(x, base + i * inner, base + best * inner)) {
                best = i;
              }
            }
            if (wide) {
              ((long[]) frame[dst])[o * inner + j] = best;
            } else {
              ((int[]) frame[dst])[o * inner + j] = best;
            }
          }
        }
      };
    };
  }

  private static boolean less(Object x, int i, int j) {
    return switch (x) {
      case float[] a -> a[i] < a[j];
      case double[] a -> a[i] < a[j];
      case int[] a -> a[i] < a[j];
      case long[] a -> a[i] < a[j];
      default -> throw new AssertionError(x.getClass());
    };
  }
}
