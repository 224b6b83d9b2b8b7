package dev.kiln.runtime.kernels;

/**
 * LayerNorm and its backward op: each row of x (viewed as [rows, channels]) normalized with its own
 * statistics, the rows split over the cores; the backward op's gamma and beta sums accumulate per part.
 */
final class LayerNormKernels {
  private LayerNormKernels() {}

  /** (x, gamma, beta) to y, each row normalized with its own mean and (biased) variance. */
  static KernelFactory layerNorm() {
    return spec -> {
      NormKernels.requireFloat(spec);
      NormKernels.View v = NormKernels.View.of(spec, 0);
      double eps = spec.op().attrs().getDouble("epsilon");
      int[] in = spec.inputSlots();
      int y = spec.outputSlots()[0];
      int parts = Parallel.parts(v.rows(), v.channels());
      return frame -> Parallel.split(v.rows(), parts, (lo, hi) -> {
        if (frame[in[0]] instanceof float[] xf) {
          layerNormF32(xf, (float[]) frame[in[1]], (float[]) frame[in[2]], (float[]) frame[y], lo, hi, v.channels(), eps);
        } else {
          layerNormF64((double[]) frame[in[0]], (double[]) frame[in[1]], (double[]) frame[in[2]], (double[]) frame[y],
              lo, hi, v.channels(), eps);
        }
      });
    };
  }

  private static void layerNormF32(float[] x, float[] gamma, float[] beta, float[] y, int lo, int hi, int ch,
      double eps) {
    for (int r = lo; r < hi; r++) {
      int row = r * ch;
      double mean = sum(x, row, ch) / ch;
      double rstd = 1 / Math.sqrt(squaredDeviations(x, row, ch, mean) / ch + eps);
      for (int c = 0; c < ch; c++) {
        y[row + c] = (float) ((x[row + c] - mean) * rstd * gamma[c] + beta[c]);
      }
    }
  }

  private static void layerNormF64(double[] x, double[] gamma, double[] beta, double[] y, int lo, int hi, int ch,
      double eps) {
    for (int r = lo; r < hi; r++) {
      int row = r * ch;
      double mean = sum(x, row, ch) / ch;
      double rstd = 1 / Math.sqrt(squaredDeviations(x, row, ch, mean) / ch + eps);
      for (int c = 0; c < ch; c++) {
        y[row + c] = (x[row + c] - mean) * rstd * gamma[c] + beta[c];
      }
    }
  }

  /**
   * (dy, x, gamma) to (dx, dgamma, dbeta): per row, with g = dy gamma and xhat the normalized x,
   * dx = rstd (g - mean(g) - xhat mean(g xhat)); dgamma and dbeta sum dy xhat and dy over the rows
   * (per part of the rows, then added).
   */
  static KernelFactory layerNormGrad() {
    return spec -> {
      NormKernels.requireFloat(spec);
      NormKernels.View v = NormKernels.View.of(spec, 1);
      double eps = spec.op().attrs().getDouble("epsilon");
      int[] in = spec.inputSlots();
      int[] out = spec.outputSlots();
      int rows = v.rows();
      int ch = v.channels();
      int parts = Parallel.parts(rows, ch);
      ScratchPool<double[][]> pool = NormKernels.partials(parts, ch);
      return frame -> {
        double[][] acc = pool.take();
        try {
          for (double[] a : acc) {
            java.util.Arrays.fill(a, 0);
          }
          Parallel.split(rows, parts, (lo, hi) -> {
            double[] a = acc[NormKernels.partOf(rows, parts, lo)];
            if (frame[in[1]] instanceof float[] xf) {
              layerNormGradF32((float[]) frame[in[0]], xf, (float[]) frame[in[2]], (float[]) frame[out[0]], a, lo, hi,
                  ch, eps);
            } else {
              layerNormGradF64((double[]) frame[in[0]], (double[]) frame[in[1]], (double[]) frame[in[2]],
                  (double[]) frame[out[0]], a, lo, hi, ch, eps);
            }
          });
          for (int p = 1; p < parts; p++) {
            for (int c = 0; c < 2 * ch; c++) {
              acc[0][c] += acc[p][c];
            }
          }
          for (int c = 0; c < ch; c++) {
            NormKernels.set(frame[out[1]], c, acc[0][c]);
            NormKernels.set(frame[out[2]], c, acc[0][ch + c]);
          }
        } finally {
          pool.give(acc);
        }
      };
    };
  }

  private static void layerNormGradF32(float[] dy, float[] x, float[] gamma, float[] dx, double[] acc, int lo, int hi,
      int ch, double eps) {
    for (int r = lo; r < hi; r++) {
      int row = r * ch;
      double mean = sum(x, row, ch) / ch;
      double rstd = 1 / Math.sqrt(squaredDeviations(x, row, ch, mean) / ch + eps);
      double gMean = 0;
      double gxMean = 0;
      for (int c = 0; c < ch; c++) {
        double g = dy[row + c];
        double xhat = (x[row + c] - mean) * rstd;
        gMean += g * gamma[c];
        gxMean += g * gamma[c] * xhat;
        acc[c] += g * xhat;
        acc[ch + c] += g;
      }
      gMean /= ch;
      gxMean /= ch;
      for (int c = 0; c < ch; c++) {
        double xhat = (x[row + c] - mean) * rstd;
        dx[row + c] = (float) (rstd * (dy[row + c] * gamma[c] - gMean - xhat * gxMean));
      }
    }
  }

  private static void layerNormGradF64(double[] dy, double[] x, double[] gamma, double[] dx, double[] acc, int lo,
      int hi, int ch, double eps) {
    for (int r = lo; r < hi; r++) {
      int row = r * ch;
      double mean = sum(x, row, ch) / ch;
      double rstd = 1 / Math.sqrt(squaredDeviations(x, row, ch, mean) / ch + eps);
      double gMean = 0;
      double gxMean = 0;
      for (int c = 0; c < ch; c++) {
        double g = dy[row + c];
        double xhat = (x[row + c] - mean) * rstd;
        gMean += g * gamma[c];
        gxMean += g * gamma[c] * xhat;
        acc[c] += g * xhat;
        acc[ch + c] += g;
      }
      gMean /= ch;
      gxMean /= ch;
      for (int c = 0; c < ch; c++) {
        double xhat = (x[row + c] - mean) * rstd;
        dx[row + c] = rstd * (dy[row + c] * gamma[c] - gMean - xhat * gxMean);
      }
    }
  }

  /** The sum of x[from..from+n), in four accumulators so that the additions overlap. */
  private static double sum(float[] x, int from, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    for (int end = from + n - 3; i < end; i += 4) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    for (; i < from + n; i++) {
      s0 += x[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** The sum of (x - mean)^2 over x[from..from+n), in four accumulators. */
  private static double squaredDeviations(float[] x, int from, int n, double mean) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    for (int end = from + n - 3; i < end; i += 4) {
      double d0 = x[i] - mean;
      double d1 = x[i + 1] - mean;
      double d2 = x[i + 2] - mean;
      double d3 = x[i + 3] - mean;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < from + n; i++) {
      double d = x[i] - mean;
      s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** The sum of x[from..from+n), in four accumulators so that the additions overlap. */
  private static double sum(double[] x, int from, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    for (int end = from + n - 3; i < end; i += 4) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    for (; i < from + n; i++) {
      s0 += x[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  /** The sum of (x - mean)^2 over x[from..from+n), in four accumulators. */
  private static double squaredDeviations(double[] x, int from, int n, double mean) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    for (int end = from + n - 3; i < end; i += 4) {
      double d0 = x[i] - mean;
      double d1 = x[i + 1] - mean;
      double d2 = x[i + 2] - mean;
      double d3 = x[i + 3] - mean;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; i < from + n; i++) {
      double d = x[i] - mean;
      s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
  }
}
