package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * Ops along one axis: Softmax and LogSoftmax (numerically stable: the line's maximum is subtracted
 * before exponentiating) and ArgMax (first index of the maximum; NaN never wins after the first
 * element). The input is viewed as [outer, n, inner]; a line is n elements inner apart.
 */
final class AxisKernels {
  private AxisKernels() {}

  /** The [outer, n, inner] view of dims around axis. */
  private record Lines(int outer, int n, int inner) {
    static Lines of(int[] dims, int axis) {
      return new Lines(Math.toIntExact(KernelSupport.product(dims, 0, axis)), dims[axis],
          Math.toIntExact(KernelSupport.product(dims, axis + 1, dims.length)));
    }

    int count() {
      return outer * inner;
    }

    /** Offset of the first element of line l. */
    int start(int l) {
      int o = l / inner;
      return o * n * inner + (l - o * inner);
    }
  }

  static KernelFactory softmax(boolean log) {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      int[] dims = KernelSupport.inDims(spec, 0);
      long ax = spec.op().attrs().has("axis") ? spec.op().attrs().getLong("axis") : -1;
      Lines lines = Lines.of(dims, KernelSupport.axis(ax, dims.length));
      int in = spec.inputSlots()[0];
      int out = spec.outputSlots()[0];
      int parts = Parallel.parts(lines.count(), 16L * lines.n());
      int count = lines.count();
      return switch (d) {
        case FLOAT32 -> {
          // The exponentials of a vectorized log-softmax, one buffer per part of a run.
          int linesPerPart = (count + parts - 1) / parts;
          ScratchPool<float[]> exps = new ScratchPool<>(() -> new float[linesPerPart * lines.n()]);
          yield frame -> {
            float[] x = (float[]) frame[in];
            float[] y = (float[]) frame[out];
            if (parts <= 1) {
              softmaxF32(lines, x, y, 0, count, log, exps);
            } else {
              Parallel.split(count, parts, (lo, hi) -> softmaxF32(lines, x, y, lo, hi, log, exps));
            }
          };
        }
        case FLOAT64 -> frame -> {
          double[] x = (double[]) frame[in];
          double[] y = (double[]) frame[out];
          if (parts <= 1) {
            softmaxF64(lines, x, y, 0, count, log);
          } else {
            Parallel.split(count, parts, (lo, hi) -> softmaxF64(lines, x, y, lo, hi, log));
          }
        };
        default -> throw KernelSupport.unsupported(spec, d);
      };
    };
  }

  private static void softmaxF32(Lines lines, float[] x, float[] y, int lo, int hi, boolean log,
      ScratchPool<float[]> exps) {
    int n = lines.n();
    int s = lines.inner();
    if (s == 1 && (hi - lo) * n >= 64) {
      // Contiguous lines (e.g. a classifier head): exp as one vector row over all of them, not a
      // scalar Math.exp per element; ScalarMath's loops (the same bits) without the Vector API.
      softmaxRowsF32(x, y, lo * n, hi * n, n, log, exps);
      return;
    }
    for (int l = lo; l < hi; l++) {
      int base = lines.start(l);
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < n; i++) {
        max = Math.max(max, x[base + i * s]);
      }
      double sum = 0;
      for (int i = 0; i < n; i++) {
        float e = (float) Math.exp(x[base + i * s] - max);
        sum += e;
        if (!log) {
          y[base + i * s] = e;
        }
      }
      if (log) {
        // (x - max) first: exact for nearby values, so large inputs keep their precision.
        float logSum = (float) Math.log(sum);
        for (int i = 0; i < n; i++) {
          y[base + i * s] = (x[base + i * s] - max) - logSum;
        }
      } else {
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
          y[base + i * s] *= inv;
        }
      }
    }
  }

  /** Softmax along contiguous lines of n in [from, to): shift by each line's max, one vector exp row, per-line sums. */
  private static void softmaxRowsF32(float[] x, float[] y, int from, int to, int n, boolean log,
      ScratchPool<float[]> exps) {
    for (int base = from; base < to; base += n) {
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < n; i++) {
        max = Math.max(max, x[base + i]);
      }
      for (int i = 0; i < n; i++) {
        y[base + i] = x[base + i] - max;
      }
    }
    float[] e = log ? exps.take() : y;
    int eo = log ? 0 : from;
    try {
      sumExps(y, e, eo, from, to, n, log);
    } finally {
      if (log) {
        exps.give(e);
      }
    }
  }

  /** Exponentials of y[from, to) into e at eo (e may be y), then each line normalized by its sum. */
  private static void sumExps(float[] y, float[] e, int eo, int from, int to, int n, boolean log) {
    if (VectorSupport.AVAILABLE) {
      VectorMath.f32(UnaryKernels.Op.EXP, y, from, e, eo, to - from);
    } else {
      ScalarMath.expScaled(y, from, 1f, e, eo, to - from);
    }
    for (int base = from; base < to; base += n) {
      double sum = 0;
      int eb = eo + base - from;
      for (int i = 0; i < n; i++) {
        sum += e[eb + i];
      }
      if (log) {
        float logSum = (float) Math.log(sum);
        for (int i = 0; i < n; i++) {
          y[base + i] -= logSum;
        }
      } else {
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
          y[base + i] *= inv;
        }
      }
    }
  }

  private static void softmaxF64(Lines lines, double[] x, double[] y, int lo, int hi, boolean log) {
    int n = lines.n();
    int s = lines.inner();
    for (int l = lo; l < hi; l++) {
      int base = lines.start(l);
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < n; i++) {
        max = Math.max(max, x[base + i * s]);
      }
      double sum = 0;
      for (int i = 0; i < n; i++) {
        double e = Math.exp(x[base + i * s] - max);
        sum += e;
        if (!log) {
          y[base + i * s] = e;
        }
      }
      if (log) {
        double logSum = Math.log(sum);
        for (int i = 0; i < n; i++) {
          y[base + i * s] = (x[base + i * s] - max) - logSum;
        }
      } else {
        double inv = 1.0 / sum;
        for (int i = 0; i < n; i++) {
          y[base + i * s] *= inv;
        }
      }
    }
  }

  static KernelFactory argMax() {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      if (d == DType.BOOL) {
        throw KernelSupport.unsupported(spec, d);
      }
      int[] dims = KernelSupport.inDims(spec, 0);
      int axis = KernelSupport.axis(spec.op().attrs().getLong("axis"), dims.length);
      Lines lines = Lines.of(dims, axis);
      if (lines.n() == 0 && lines.count() > 0) {
        throw KernelSupport.error(spec, "cannot take the maximum over axis %d of size 0 in %s", axis,
            spec.inputs().get(0).shape());
      }
      boolean wide = KernelSupport.outDType(spec, 0) == DType.INT64;
      int in = spec.inputSlots()[0];
      int out = spec.outputSlots()[0];
      return frame -> {
        Object x = frame[in];
        Object y = frame[out];
        for (int l = 0; l < lines.count(); l++) {
          int best = argMaxLine(x, lines.start(l), lines.n(), lines.inner());
          if (wide) {
            ((long[]) y)[l] = best;
          } else {
            ((int[]) y)[l] = best;
          }
        }
      };
    };
  }

  private static int argMaxLine(Object x, int base, int n, int s) {
    int best = 0;
    switch (x) {
      case float[] a -> {
        for (int i = 1; i < n; i++) {
          if (a[base + i * s] > a[base + best * s]) {
            best = i;
          }
        }
      }
      case double[] a -> {
        for (int i = 1; i < n; i++) {
          if (a[base + i * s] > a[base + best * s]) {
            best = i;
          }
        }
      }
      case int[] a -> {
        for (int i = 1; i < n; i++) {
          if (a[base + i * s] > a[base + best * s]) {
            best = i;
          }
        }
      }
      case long[] a -> {
        for (int i = 1; i < n; i++) {
          if (a[base + i * s] > a[base + best * s]) {
            best = i;
          }
        }
      }
      default -> throw new AssertionError(x.getClass());
    }
    return best;
  }
}
