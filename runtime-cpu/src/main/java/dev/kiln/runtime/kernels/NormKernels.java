package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * BatchNorm and its backward op over x viewed as [rows, channels] (channels last), their passes over the
 * rows split over the cores with one accumulator per part; and the helpers LayerNormKernels shares.
 * Statistics accumulate in double whatever the dtype; float64 tensors are computed in double
 * throughout, float32 ones store float.
 */
final class NormKernels {
  private NormKernels() {}

  /** A value of a float storage array as double. */
  static double get(Object a, int i) {
    return a instanceof float[] f ? f[i] : ((double[]) a)[i];
  }

  static void set(Object a, int i, double v) {
    if (a instanceof float[] f) {
      f[i] = (float) v;
    } else {
      ((double[]) a)[i] = v;
    }
  }

  record View(int rows, int channels) {
    static View of(KernelSpec spec, int input) {
      int[] dims = KernelSupport.inDims(spec, input);
      int c = dims[dims.length - 1];
      return new View(c == 0 ? 0 : KernelSupport.size(spec.inputs().get(input)) / c, c);
    }
  }

  /** Per-part accumulators of a run: parts x (2 * channels) doubles. */
  static ScratchPool<double[][]> partials(int parts, int channels) {
    return new ScratchPool<>(() -> new double[parts][2 * channels]);
  }

  /** (x, scale, offset, mean, variance) to (y, mean used, variance used). */
  static KernelFactory batchNorm() {
    return spec -> {
      requireFloat(spec);
      View v = View.of(spec, 0);
      double eps = spec.op().attrs().getDouble("epsilon");
      boolean training = spec.op().attrs().getBool("training");
      int[] in = spec.inputSlots();
      int[] out = spec.outputSlots();
      int rows = v.rows();
      int ch = v.channels();
      int parts = Parallel.parts(rows, ch);
      ScratchPool<double[][]> pool = partials(parts, ch);
      return frame -> {
        Object x = frame[in[0]];
        Object mean = frame[out[1]];
        Object var = frame[out[2]];
        double[][] acc = pool.take();
        try {
          double[] stats = acc[0];
          if (training) {
            // Two passes over the rows, each split over the cores: the means, then the squared deviations.
            for (int pass = 0; pass < 2; pass++) {
              boolean second = pass == 1;
              for (double[] a : acc) {
                java.util.Arrays.fill(a, second ? ch : 0, second ? 2 * ch : ch, 0);
              }
              Parallel.split(rows, parts, (lo, hi) -> {
                int p = partOf(rows, parts, lo);
                sumRows(x, lo, hi, ch, second ? stats : null, acc[p], second ? ch : 0);
              });
              for (int p = 1; p < parts; p++) {
                for (int c = second ? ch : 0; c < (second ? 2 * ch : ch); c++) {
                  stats[c] += acc[p][c];
                }
              }
              for (int c = second ? ch : 0; c < (second ? 2 * ch : ch); c++) {
                stats[c] /= Math.max(rows, 1);
              }
            }
            for (int c = 0; c < ch; c++) {
              set(mean, c, stats[c]);
              set(var, c, stats[ch + c]);
            }
          } else {
            System.arraycopy(frame[in[3]], 0, mean, 0, ch);
            System.arraycopy(frame[in[4]], 0, var, 0, ch);
          }
          // y = x * a + b with a = scale * inv, b = offset - mean * a.
          Object scale = frame[in[1]];
          Object offset = frame[in[2]];
          for (int c = 0; c < ch; c++) {
            double a = get(scale, c) / Math.sqrt(get(var, c) + eps);
            stats[c] = a;
            stats[ch + c] = get(offset, c) - get(mean, c) * a;
          }
          Object y = frame[out[0]];
          Parallel.split(rows, parts, (lo, hi) -> scaleRows(x, lo, hi, ch, stats, y));
        } finally {
          pool.give(acc);
        }
      };
    };
  }

  /** The part of [0, rows) split into {@code parts} that starts at {@code lo} (see Parallel.bound). */
  static int partOf(int rows, int parts, int lo) {
    for (int p = 0; p < parts; p++) {
      if (Parallel.bound(rows, parts, p) == lo) {
        return p;
      }
    }
    throw new AssertionError(lo);
  }

  /**
   * acc[at + c] += x[r, c] over rows lo..hi-1, or, with {@code mean}, += (x[r, c] - mean[c])^2.
   */
  private static void sumRows(Object x, int lo, int hi, int ch, double[] mean, double[] acc, int at) {
    if (x instanceof float[] f) {
      for (int r = lo; r < hi; r++) {
        int row = r * ch;
        for (int c = 0; c < ch; c++) {
          double v = f[row + c];
          if (mean != null) {
            v -= mean[c];
            v *= v;
          }
          acc[at + c] += v;
        }
      }
    } else {
      double[] d = (double[]) x;
      for (int r = lo; r < hi; r++) {
        int row = r * ch;
        for (int c = 0; c < ch; c++) {
          double v = d[row + c];
          if (mean != null) {
            v -= mean[c];
            v *= v;
          }
          acc[at + c] += v;
        }
      }
    }
  }

  /** y[r, c] = x[r, c] * ab[c] + ab[ch + c] over rows lo..hi-1. */
  private static void scaleRows(Object x, int lo, int hi, int ch, double[] ab, Object y) {
    if (x instanceof float[] xf) {
      float[] yf = (float[]) y;
      for (int r = lo; r < hi; r++) {
        int row = r * ch;
        for (int c = 0; c < ch; c++) {
          yf[row + c] = (float) (xf[row + c] * ab[c] + ab[ch + c]);
        }
      }
    } else {
      double[] xd = (double[]) x;
      double[] yd = (double[]) y;
      for (int r = lo; r < hi; r++) {
        int row = r * ch;
        for (int c = 0; c < ch; c++) {
          yd[row + c] = xd[row + c] * ab[c] + ab[ch + c];
        }
      }
    }
  }

  /**
   * (dy, x, scale, mean, variance) to (dx, dscale, doffset) for training mode, where mean and variance
   * are x's own: dx = scale inv / N (N dy - sum dy - xhat sum(dy xhat)).
   */
  static KernelFactory batchNormGrad() {
    return spec -> {
      requireFloat(spec);
      View v = View.of(spec, 1);
      double eps = spec.op().attrs().getDouble("epsilon");
      int[] in = spec.inputSlots();
      int[] out = spec.outputSlots();
      int rows = v.rows();
      int ch = v.channels();
      int parts = Parallel.parts(rows, ch);
      ScratchPool<double[][]> pool = partials(parts, ch);
      ScratchPool<double[]> coefficients = new ScratchPool<>(() -> new double[3 * ch]);
      return frame -> {
        Object dy = frame[in[0]];
        Object x = frame[in[1]];
        Object scale = frame[in[2]];
        Object mean = frame[in[3]];
        Object var = frame[in[4]];
        double[][] acc = pool.take();
        double[] k = coefficients.take();
        try {
          // k: mean, inv, then (per channel) the terms of dx = dy * k0 + xhat * k1 + k2 below.
          for (int c = 0; c < ch; c++) {
            k[c] = get(mean, c);
            k[ch + c] = 1 / Math.sqrt(get(var, c) + eps);
          }
          for (double[] a : acc) {
            java.util.Arrays.fill(a, 0);
          }
          Parallel.split(rows, parts, (lo, hi) -> gradSums(dy, x, lo, hi, ch, k, acc[partOf(rows, parts, lo)]));
          double[] sums = acc[0];
          for (int p = 1; p < parts; p++) {
            for (int c = 0; c < 2 * ch; c++) {
              sums[c] += acc[p][c];
            }
          }
          // sums[c] = sum dy, sums[ch + c] = sum dy xhat.
          for (int c = 0; c < ch; c++) {
            set(frame[out[1]], c, sums[ch + c]);
            set(frame[out[2]], c, sums[c]);
          }
          Object dx = frame[out[0]];
          double n = Math.max(rows, 1);
          Parallel.split(rows, parts, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
              for (int c = 0; c < ch; c++) {
                int i = r * ch + c;
                double inv = k[ch + c];
                double xhat = (get(x, i) - k[c]) * inv;
                set(dx, i, get(scale, c) * inv * (get(dy, i) - (sums[c] + xhat * sums[ch + c]) / n));
              }
            }
          });
        } finally {
          coefficients.give(k);
          pool.give(acc);
        }
      };
    };
  }

  /** acc[c] += dy, acc[ch + c] += dy xhat over rows lo..hi-1 (k holds mean then inv per channel). */
  private static void gradSums(Object dy, Object x, int lo, int hi, int ch, double[] k, double[] acc) {
    if (x instanceof float[] xf) {
      float[] g = (float[]) dy;
      for (int r = lo; r < hi; r++) {
        int row = r * ch;
        for (int c = 0; c < ch; c++) {
          double gv = g[row + c];
          acc[c] += gv;
          acc[ch + c] += gv * (xf[row + c] - k[c]) * k[ch + c];
        }
      }
    } else {
      double[] xd = (double[]) x;
      double[] g = (double[]) dy;
      for (int r = lo; r < hi; r++) {
        int row = r * ch;
        for (int c = 0; c < ch; c++) {
          double gv = g[row + c];
          acc[c] += gv;
          acc[ch + c] += gv * (xd[row + c] - k[c]) * k[ch + c];
        }
      }
    }
  }

  static void requireFloat(KernelSpec spec) {
    DType d = KernelSupport.inDType(spec, 0);
    if (!d.isFloating()) {
      throw KernelSupport.unsupported(spec, d);
    }
  }
}
