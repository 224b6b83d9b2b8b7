package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * Select(cond, x, y) with three-way broadcasting, and AddN over same-shaped inputs. Select's rows may
 * have any mix of advancing and fixed operands, so apart from the all-advancing case its loop indexes
 * with strides (0 or 1).
 */
final class SelectKernels {
  private SelectKernels() {}

  static KernelFactory select() {
    return spec -> {
      BroadcastPlan plan = ElementwiseKernel.planFor(spec);
      int sc = plan.innerStride(0);
      int sx = plan.innerStride(1);
      int sy = plan.innerStride(2);
      BroadcastPlan.Rows rows = switch (KernelSupport.outDType(spec, 0)) {
        case FLOAT32 -> (c, co, x, xo, y, yo, o, oo, n) ->
            select((boolean[]) c, co, sc, (float[]) x, xo, sx, (float[]) y, yo, sy, (float[]) o, oo, n);
        case FLOAT64 -> (c, co, x, xo, y, yo, o, oo, n) ->
            select((boolean[]) c, co, sc, (double[]) x, xo, sx, (double[]) y, yo, sy, (double[]) o, oo, n);
        case INT32 -> (c, co, x, xo, y, yo, o, oo, n) ->
            select((boolean[]) c, co, sc, (int[]) x, xo, sx, (int[]) y, yo, sy, (int[]) o, oo, n);
        case INT64 -> (c, co, x, xo, y, yo, o, oo, n) ->
            select((boolean[]) c, co, sc, (long[]) x, xo, sx, (long[]) y, yo, sy, (long[]) o, oo, n);
        case BOOL -> (c, co, x, xo, y, yo, o, oo, n) ->
            select((boolean[]) c, co, sc, (boolean[]) x, xo, sx, (boolean[]) y, yo, sy, (boolean[]) o, oo, n);
        default -> throw NarrowTypes.notLowered(KernelSupport.outDType(spec, 0));
      };
      return new ElementwiseKernel(spec, plan, rows, 1);
    };
  }

  private static void select(boolean[] c, int co, int sc, float[] x, int xo, int sx, float[] y, int yo, int sy,
      float[] o, int oo, int n) {
    if ((sc & sx & sy) == 1 && VectorSupport.AVAILABLE) {
      VectorArithmetic.select(c, co, x, xo, y, yo, o, oo, n);
    } else if ((sc & sx & sy) == 1) {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    } else {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i * sc] ? x[xo + i * sx] : y[yo + i * sy];
    }
  }

  private static void select(boolean[] c, int co, int sc, double[] x, int xo, int sx, double[] y, int yo, int sy,
      double[] o, int oo, int n) {
    if ((sc & sx & sy) == 1) {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    } else {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i * sc] ? x[xo + i * sx] : y[yo + i * sy];
    }
  }

  private static void select(boolean[] c, int co, int sc, int[] x, int xo, int sx, int[] y, int yo, int sy,
      int[] o, int oo, int n) {
    if ((sc & sx & sy) == 1) {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    } else {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i * sc] ? x[xo + i * sx] : y[yo + i * sy];
    }
  }

  private static void select(boolean[] c, int co, int sc, long[] x, int xo, int sx, long[] y, int yo, int sy,
      long[] o, int oo, int n) {
    if ((sc & sx & sy) == 1) {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    } else {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i * sc] ? x[xo + i * sx] : y[yo + i * sy];
    }
  }

  private static void select(boolean[] c, int co, int sc, boolean[] x, int xo, int sx, boolean[] y, int yo, int sy,
      boolean[] o, int oo, int n) {
    if ((sc & sx & sy) == 1) {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    } else {
      for (int i = 0; i < n; i++) o[oo + i] = c[co + i * sc] ? x[xo + i * sx] : y[yo + i * sy];
    }
  }

  /** AddN: inference made all shapes equal, so this is a flat sum, split over cores when large. */
  static KernelFactory addN() {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      int n = KernelSupport.size(spec.outputs().get(0));
      int[] in = spec.inputSlots().clone();
      int out = spec.outputSlots()[0];
      for (int i = 0; i < in.length; i++) {
        if (!spec.inputs().get(i).shape().equals(spec.outputs().get(0).shape())) {
          throw KernelSupport.error(spec, "input %d has shape %s, expected %s", i,
              spec.inputs().get(i).shape(), spec.outputs().get(0).shape());
        }
      }
      int parts = Parallel.parts(n, in.length);
      return switch (d) {
        case FLOAT32, FLOAT64, INT32, INT64 -> frame -> {
          Object o = frame[out];
          if (parts <= 1) {
            sum(d, frame, in, o, 0, n);
          } else {
            Parallel.split(n, parts, (lo, hi) -> sum(d, frame, in, o, lo, hi));
          }
        };
        case BOOL -> throw KernelSupport.unsupported(spec, d);
        default -> throw NarrowTypes.notLowered(d);
      };
    };
  }

  private static void sum(DType d, Object[] frame, int[] in, Object o, int lo, int hi) {
    switch (d) {
      case FLOAT32 -> {
        float[] y = (float[]) o;
        float[] x0 = (float[]) frame[in[0]];
        System.arraycopy(x0, lo, y, lo, hi - lo);
        for (int k = 1; k < in.length; k++) {
          float[] x = (float[]) frame[in[k]];
          for (int i = lo; i < hi; i++) y[i] += x[i];
        }
      }
      case FLOAT64 -> {
        double[] y = (double[]) o;
        System.arraycopy(frame[in[0]], lo, y, lo, hi - lo);
        for (int k = 1; k < in.length; k++) {
          double[] x = (double[]) frame[in[k]];
          for (int i = lo; i < hi; i++) y[i] += x[i];
        }
      }
      case INT32 -> {
        int[] y = (int[]) o;
        System.arraycopy(frame[in[0]], lo, y, lo, hi - lo);
        for (int k = 1; k < in.length; k++) {
          int[] x = (int[]) frame[in[k]];
          for (int i = lo; i < hi; i++) y[i] += x[i];
        }
      }
      case INT64 -> {
        long[] y = (long[]) o;
        System.arraycopy(frame[in[0]], lo, y, lo, hi - lo);
        for (int k = 1; k < in.length; k++) {
          long[] x = (long[]) frame[in[k]];
          for (int i = lo; i < hi; i++) y[i] += x[i];
        }
      }
      case BOOL -> throw new AssertionError(d);
    }
  }
}
