package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.Shape;

/**
 * Gather, its gradient GatherGrad (a dense unsorted segment sum), GatherNd and ScatterNd. Params are
 * viewed as [outer, axis, inner]; each index moves one contiguous row of inner elements (a large Gather
 * splits its indices over the cores; the sums run on one thread, as indices may repeat). Every index
 * is checked as it is read: one below 0 or not below its bound fails the run with an
 * IllegalArgumentException naming the node, the index, its position and the bound.
 */
final class GatherKernels {
  private GatherKernels() {}

  static KernelFactory gather() {
    return spec -> {
      int[] p = KernelSupport.inDims(spec, 0);
      int axis = KernelSupport.axis(spec.op().attrs().getLong("axis"), p.length);
      int outer = Math.toIntExact(KernelSupport.product(p, 0, axis));
      int bound = p[axis];
      int inner = Math.toIntExact(KernelSupport.product(p, axis + 1, p.length));
      int count = KernelSupport.size(spec.inputs().get(1));
      int sp = spec.inputSlots()[0];
      int si = spec.inputSlots()[1];
      int so = spec.outputSlots()[0];
      String what = "axis " + axis + " of params " + spec.inputs().get(0).shape();
      int parts = Parallel.parts(count, (long) outer * inner);
      return frame -> {
        Object params = frame[sp];
        Object idx = frame[si];
        Object out = frame[so];
        Parallel.split(count, parts, (lo, hi) -> {
          for (int i = lo; i < hi; i++) {
            int row = index(spec, idx, i, bound, what);
            for (int o = 0; o < outer; o++) {
              System.arraycopy(params, (o * bound + row) * inner, out, (o * count + i) * inner, inner);
            }
          }
        });
      };
    };
  }

  /** out = zeros(params' shape); out[o, idx[i], :] += g[o, i, :]. */
  static KernelFactory gatherGrad() {
    return spec -> {
      int[] p = KernelSupport.outDims(spec, 0);
      int axis = KernelSupport.axis(spec.op().attrs().getLong("axis"), p.length);
      int outer = Math.toIntExact(KernelSupport.product(p, 0, axis));
      int bound = p[axis];
      int inner = Math.toIntExact(KernelSupport.product(p, axis + 1, p.length));
      int count = KernelSupport.size(spec.inputs().get(1));
      int size = KernelSupport.size(spec.outputs().get(0));
      DType d = KernelSupport.outDType(spec, 0);
      int sg = spec.inputSlots()[0];
      int si = spec.inputSlots()[1];
      int so = spec.outputSlots()[0];
      String what = "axis " + axis + " of params " + spec.outputs().get(0).shape();
      return frame -> {
        Object g = frame[sg];
        Object idx = frame[si];
        Object out = frame[so];
        FillKernels.fill(d, out, size, 0);
        for (int i = 0; i < count; i++) {
          int row = index(spec, idx, i, bound, what);
          for (int o = 0; o < outer; o++) {
            addRow(g, (o * count + i) * inner, out, (o * bound + row) * inner, inner);
          }
        }
      };
    };
  }

  /** The nd-index view: tuples of q indices into the first q of {@code dims}, each picking a row of inner elements. */
  private record Nd(int tuples, int q, int[] bounds, int[] strides, int inner) {
    static Nd of(KernelSpec spec, int[] indexDims, int[] dims) {
      int q = indexDims[indexDims.length - 1];
      int tuples = Math.toIntExact(KernelSupport.product(indexDims, 0, indexDims.length - 1));
      int inner = Math.toIntExact(KernelSupport.product(dims, q, dims.length));
      int[] bounds = java.util.Arrays.copyOf(dims, q);
      int[] strides = new int[q];
      int acc = inner;
      for (int j = q - 1; j >= 0; j--) {
        strides[j] = acc;
        acc *= dims[j];
      }
      return new Nd(tuples, q, bounds, strides, inner);
    }

    /** The offset of the row that tuple t picks, each of its indices checked. */
    int offset(KernelSpec spec, Object idx, int t, Shape of) {
      int off = 0;
      for (int j = 0; j < q; j++) {
        int v = index(spec, idx, t * q + j, bounds[j], "dimension " + j + " of " + of);
        off += v * strides[j];
      }
      return off;
    }
  }

  static KernelFactory gatherNd() {
    return spec -> {
      Shape params = spec.inputs().get(0).shape();
      Nd nd = Nd.of(spec, KernelSupport.inDims(spec, 1), params.dims());
      int sp = spec.inputSlots()[0];
      int si = spec.inputSlots()[1];
      int so = spec.outputSlots()[0];
      return frame -> {
        Object idx = frame[si];
        for (int t = 0; t < nd.tuples(); t++) {
          System.arraycopy(frame[sp], nd.offset(spec, idx, t, params), frame[so], t * nd.inner(), nd.inner());
        }
      };
    };
  }

  static KernelFactory scatterNd() {
    return spec -> {
      Shape out = spec.outputs().get(0).shape();
      Nd nd = Nd.of(spec, KernelSupport.inDims(spec, 0), out.dims());
      DType d = KernelSupport.outDType(spec, 0);
      int size = out.elementCount();
      int si = spec.inputSlots()[0];
      int su = spec.inputSlots()[1];
      int so = spec.outputSlots()[0];
      return frame -> {
        Object idx = frame[si];
        FillKernels.fill(d, frame[so], size, 0);
        for (int t = 0; t < nd.tuples(); t++) {
          addRow(frame[su], t * nd.inner(), frame[so], nd.offset(spec, idx, t, out), nd.inner());
        }
      };
    };
  }

  /** Element i of an integer index array, checked to be in [0, bound). */
  static int index(KernelSpec spec, Object idx, int i, int bound, String what) {
    long v = idx instanceof int[] a ? a[i] : ((long[]) idx)[i];
    if (v < 0 || v >= bound) {
      throw KernelSupport.error(spec, "index %d (element %d of indices) is out of range [0, %d) for %s",
          v, i, bound, what);
    }
    return (int) v;
  }

  private static void addRow(Object src, int from, Object dst, int to, int n) {
    switch (dst) {
      case float[] y -> {
        float[] x = (float[]) src;
        for (int j = 0; j < n; j++) {
          y[to + j] += x[from + j];
        }
      }
      case double[] y -> {
        double[] x = (double[]) src;
        for (int j = 0; j < n; j++) {
          y[to + j] += x[from + j];
        }
      }
      case int[] y -> {
        int[] x = (int[]) src;
        for (int j = 0; j < n; j++) {
          y[to + j] += x[from + j];
        }
      }
      case long[] y -> {
        long[] x = (long[]) src;
        for (int j = 0; j < n; j++) {
          y[to + j] += x[from + j];
        }
      }
      default -> throw new AssertionError(dst.getClass());
    }
  }
}
