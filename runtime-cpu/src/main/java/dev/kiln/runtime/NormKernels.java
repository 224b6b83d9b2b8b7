package dev.kiln.runtime;

import dev.kiln.graph.DType;

/**
 * BatchNorm, LayerNorm and their backward ops, each one pass kernel over x viewed as [rows, channels]
 * (channels last). Statistics accumulate in double whatever the dtype; float64 tensors are computed in
 * double throughout, float32 ones store float.
 */
final class NormKernels {
  private NormKernels() {}

  /** A value of a float storage array as double. */
  private static double get(Object a, int i) {
    return a instanceof float[] f ? f[i] : ((double[]) a)[i];
  }

  private static void set(Object a, int i, double v) {
    if (a instanceof float[] f) {
      f[i] = (float) v;
    } else {
      ((double[]) a)[i] = v;
    }
  }

  private record View(int rows, int channels) {
    static View of(KernelSpec spec, int input) {
      int[] dims = KernelSupport.inDims(spec, input);
      int c = dims[dims.length - 1];
      return new View(c == 0 ? 0 : KernelSupport.size(spec.inputs().get(input)) / c, c);
    }
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
      ScratchPool<double[]> scratch = new ScratchPool<>(() -> new double[2 * v.channels()]);
      return frame -> {
        Object x = frame[in[0]];
        Object mean = frame[out[1]];
        Object var = frame[out[2]];
        int rows = v.rows();
        int ch = v.channels();
        if (training) {
          double[] acc = scratch.take();
          try {
            java.util.Arrays.fill(acc, 0);
            for (int r = 0; r < rows; r++) {
              for (int c = 0; c < ch; c++) {
                acc[c] += get(x, r * ch + c);
              }
            }
            for (int c = 0; c < ch; c++) {
              acc[c] /= Math.max(rows, 1);
            }
            for (int r = 0; r < rows; r++) {
              for (int c = 0; c < ch; c++) {
                double dev = get(x, r * ch + c) - acc[c];
                acc[ch + c] += dev * dev;
              }
            }
            for (int c = 0; c < ch; c++) {
              set(mean, c, acc[c]);
              set(var, c, acc[ch + c] / Math.max(rows, 1));
            }
          } finally {
            scratch.give(acc);
          }
        } else {
          System.arraycopy(frame[in[3]], 0, mean, 0, ch);
          System.arraycopy(frame[in[4]], 0, var, 0, ch);
        }
        normalize(x, frame[in[1]], frame[in[2]], mean, var, eps, frame[out[0]], v, scratch);
      };
    };
  }

  /** y = (x - mean) * (var + eps)^-1/2 * scale + offset, per channel. */
  private static void normalize(Object x, Object scale, Object offset, Object mean, Object var, double eps, Object y,
      View v, ScratchPool<double[]> scratch) {
    int ch = v.channels();
    double[] ab = scratch.take();
    try {
      // y = x * a + b with a = scale * inv, b = offset - mean * a.
      for (int c = 0; c < ch; c++) {
        double a = get(scale, c) / Math.sqrt(get(var, c) + eps);
        ab[c] = a;
        ab[ch + c] = get(offset, c) - get(mean, c) * a;
      }
      if (x instanceof float[] xf) {
        float[] yf = (float[]) y;
        for (int r = 0; r < v.rows(); r++) {
          int row = r * ch;
          for (int c = 0; c < ch; c++) {
            yf[row + c] = (float) (xf[row + c] * ab[c] + ab[ch + c]);
          }
        }
      } else {
        double[] xd = (double[]) x;
        double[] yd = (double[]) y;
        for (int r = 0; r < v.rows(); r++) {
          int row = r * ch;
          for (int c = 0; c < ch; c++) {
            yd[row + c] = xd[row + c] * ab[c] + ab[ch + c];
          }
        }
      }
    } finally {
      scratch.give(ab);
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
      ScratchPool<double[]> scratch = new ScratchPool<>(() -> new double[3 * v.channels()]);
      return frame -> {
        Object dy = frame[in[0]];
        Object x = frame[in[1]];
        Object scale = frame[in[2]];
        Object mean = frame[in[3]];
        Object var = frame[in[4]];
        int rows = v.rows();
        int ch = v.channels();
        double[] s = scratch.take();
        try {
          java.util.Arrays.fill(s, 0);
          for (int c = 0; c < ch; c++) {
            s[2 * ch + c] = 1 / Math.sqrt(get(var, c) + eps);
          }
          for (int r = 0; r < rows; r++) {
            for (int c = 0; c < ch; c++) {
              double g = get(dy, r * ch + c);
              s[c] += g;
              s[ch + c] += g * (get(x, r * ch + c) - get(mean, c)) * s[2 * ch + c];
            }
          }
          Object dx = frame[out[0]];
          for (int r = 0; r < rows; r++) {
            for (int c = 0; c < ch; c++) {
              int i = r * ch + c;
              double inv = s[2 * ch + c];
              double xhat = (get(x, i) - get(mean, c)) * inv;
              set(dx, i, get(scale, c) * inv / rows * (rows * get(dy, i) - s[c] - xhat * s[ch + c]));
            }
          }
          for (int c = 0; c < ch; c++) {
            set(frame[out[1]], c, s[ch + c]);
            set(frame[out[2]], c, s[c]);
          }
        } finally {
          scratch.give(s);
        }
      };
    };
  }

  /** (x, gamma, beta) to y, each row normalized with its own mean and (biased) variance. */
  static KernelFactory layerNorm() {
    return spec -> {
      requireFloat(spec);
      View v = View.of(spec, 0);
      double eps = spec.op().attrs().getDouble("epsilon");
      int[] in = spec.inputSlots();
      int y = spec.outputSlots()[0];
      int parts = Parallel.parts(v.rows(), v.channels());
      return frame -> Parallel.split(v.rows(), parts, (lo, hi) -> {
        Object x = frame[in[0]];
        Object gamma = frame[in[1]];
        Object beta = frame[in[2]];
        int ch = v.channels();
        for (int r = lo; r < hi; r++) {
          int row = r * ch;
          double mean = 0;
          for (int c = 0; c < ch; c++) {
            mean += get(x, row + c);
          }
          mean /= ch;
          double var = 0;
          for (int c = 0; c < ch; c++) {
            double d = get(x, row + c) - mean;
            var += d * d;
          }
          double rstd = 1 / Math.sqrt(var / ch + eps);
          for (int c = 0; c < ch; c++) {
            set(frame[y], row + c, (get(x, row + c) - mean) * rstd * get(gamma, c) + get(beta, c));
          }
        }
      });
    };
  }

  /**
   * (dy, x, gamma) to (dx, dgamma, dbeta): per row, with g = dy gamma and xhat the normalized x,
   * dx = rstd (g - mean(g) - xhat mean(g xhat)); dgamma and dbeta sum dy xhat and dy over the rows.
   */
  static KernelFactory layerNormGrad() {
    return spec -> {
      requireFloat(spec);
      View v = View.of(spec, 1);
      double eps = spec.op().attrs().getDouble("epsilon");
      int[] in = spec.inputSlots();
      int[] out = spec.outputSlots();
      ScratchPool<double[]> scratch = new ScratchPool<>(() -> new double[2 * v.channels()]);
      return frame -> {
        Object dy = frame[in[0]];
        Object x = frame[in[1]];
        Object gamma = frame[in[2]];
        Object dx = frame[out[0]];
        int ch = v.channels();
        double[] acc = scratch.take();
        try {
          java.util.Arrays.fill(acc, 0);
          for (int r = 0; r < v.rows(); r++) {
            int row = r * ch;
            double mean = 0;
            for (int c = 0; c < ch; c++) {
              mean += get(x, row + c);
            }
            mean /= ch;
            double var = 0;
            for (int c = 0; c < ch; c++) {
              double d = get(x, row + c) - mean;
              var += d * d;
            }
            double rstd = 1 / Math.sqrt(var / ch + eps);
            double gMean = 0;
            double gxMean = 0;
            for (int c = 0; c < ch; c++) {
              double g = get(dy, row + c);
              double xhat = (get(x, row + c) - mean) * rstd;
              gMean += g * get(gamma, c);
              gxMean += g * get(gamma, c) * xhat;
              acc[c] += g * xhat;
              acc[ch + c] += g;
            }
            gMean /= ch;
            gxMean /= ch;
            for (int c = 0; c < ch; c++) {
              double xhat = (get(x, row + c) - mean) * rstd;
              set(dx, row + c, rstd * (get(dy, row + c) * get(gamma, c) - gMean - xhat * gxMean));
            }
          }
          for (int c = 0; c < ch; c++) {
            set(frame[out[1]], c, acc[c]);
            set(frame[out[2]], c, acc[ch + c]);
          }
        } finally {
          scratch.give(acc);
        }
      };
    };
  }

  private static void requireFloat(KernelSpec spec) {
    DType d = KernelSupport.inDType(spec, 0);
    if (!d.isFloating()) {
      throw KernelSupport.unsupported(spec, d);
    }
  }
}
