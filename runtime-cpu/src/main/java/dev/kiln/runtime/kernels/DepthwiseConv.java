package dev.kiln.runtime.kernels;

import dev.kiln.graph.ConvGeometry;

/**
 * Float32 NHWC depthwise convolution (one group per input channel, M = K / C filters each: TF's
 * {@code depthwise_conv2d}) and its backprops as direct loops over the window taps, the channels
 * innermost and contiguous in input, filter and output alike. im2col would make C products of a
 * kh*kw-deep window each, far too small for BLAS. Output channel c*M+m reads input channel c. Images
 * are split over the cores; the filter gradient sums each core's partial filter.
 */
final class DepthwiseConv {
  private final ConvGeometry g;
  private final int m;
  private final int parts;
  private final int filterSize;
  private final ScratchPool<float[][]> partials;

  /** Whether {@code g} is a depthwise convolution this class runs. */
  static boolean handles(ConvGeometry g) {
    return !g.nchw() && g.groups() > 1 && g.groupInC() == 1 && g.groups() == g.inC();
  }

  DepthwiseConv(ConvGeometry g) {
    this.g = g;
    this.m = g.groupOutC();
    this.filterSize = g.kh() * g.kw() * g.outC();
    long work = (long) g.batch() * g.outH() * g.outW() * g.outC() * g.kh() * g.kw();
    this.parts = Parallel.parts(g.batch(), g.batch() == 0 ? 0 : work / g.batch());
    this.partials = new ScratchPool<>(() -> new float[parts][filterSize]);
  }

  void forward(float[] x, float[] w, float[] y) {
    Parallel.split(g.batch(), parts, (lo, hi) -> {
      int k = g.outC();
      java.util.Arrays.fill(y, lo * g.outH() * g.outW() * k, hi * g.outH() * g.outW() * k, 0f);
      taps(lo, hi, (yo, xo, wo) -> {
        if (m == 1) {
          Lanes.fma(y, yo, x, xo, w, wo, k);
        } else {
          for (int c = 0; c < g.inC(); c++) {
            Lanes.axpy(y, yo + c * m, x[xo + c], w, wo + c * m, m);
          }
        }
      });
    });
  }

  /** Inputs (filter, dy), output dx. */
  void backpropInput(float[] w, float[] dy, float[] dx) {
    Parallel.split(g.batch(), parts, (lo, hi) -> {
      int image = g.inH() * g.inW() * g.inC();
      java.util.Arrays.fill(dx, lo * image, hi * image, 0f);
      taps(lo, hi, (yo, xo, wo) -> {
        if (m == 1) {
          Lanes.fma(dx, xo, dy, yo, w, wo, g.inC());
        } else {
          for (int c = 0; c < g.inC(); c++) {
            dx[xo + c] += Lanes.dot(dy, yo + c * m, w, wo + c * m, m);
          }
        }
      });
    });
  }

  /** Inputs (x, dy), output dw. */
  void backpropFilter(float[] x, float[] dy, float[] dw) {
    if (parts <= 1) {
      filterPart(x, dy, dw, 0, g.batch());
      return;
    }
    float[][] acc = partials.take();
    try {
      Parallel.split(parts, parts, (p0, p1) -> {
        for (int p = p0; p < p1; p++) {
          filterPart(x, dy, acc[p], Parallel.bound(g.batch(), parts, p), Parallel.bound(g.batch(), parts, p + 1));
        }
      });
      System.arraycopy(acc[0], 0, dw, 0, filterSize);
      for (int p = 1; p < parts; p++) {
        float[] a = acc[p];
        for (int e = 0; e < filterSize; e++) {
          dw[e] += a[e];
        }
      }
    } finally {
      partials.give(acc);
    }
  }

  private void filterPart(float[] x, float[] dy, float[] dw, int lo, int hi) {
    java.util.Arrays.fill(dw, 0, filterSize, 0f);
    taps(lo, hi, (yo, xo, wo) -> {
      if (m == 1) {
        Lanes.fma(dw, wo, x, xo, dy, yo, g.inC());
      } else {
        for (int c = 0; c < g.inC(); c++) {
          Lanes.axpy(dw, wo + c * m, x[xo + c], dy, yo + c * m, m);
        }
      }
    });
  }

  /** One valid window tap: offsets of the output pixel, the input pixel and the tap's filter row. */
  @FunctionalInterface
  private interface Tap {
    void at(int yo, int xo, int wo);
  }

  /** Every valid (output pixel, tap) pair of images [lo, hi). */
  private void taps(int lo, int hi, Tap tap) {
    int k = g.outC();
    int c = g.inC();
    for (int im = lo; im < hi; im++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        int ih0 = oh * g.strideH() - g.padTop();
        for (int ow = 0; ow < g.outW(); ow++) {
          int iw0 = ow * g.strideW() - g.padLeft();
          int yo = ((im * g.outH() + oh) * g.outW() + ow) * k;
          for (int i = 0; i < g.kh(); i++) {
            int ih = ih0 + i * g.dilH();
            if (ih < 0 || ih >= g.inH()) {
              continue;
            }
            for (int j = 0; j < g.kw(); j++) {
              int iw = iw0 + j * g.dilW();
              if (iw >= 0 && iw < g.inW()) {
                tap.at(yo, ((im * g.inH() + ih) * g.inW() + iw) * c, (i * g.kw() + j) * k);
              }
            }
          }
        }
      }
    }
  }

  /** The loops over contiguous channels: on the Vector API where it is available. */
  private static final class Lanes {
    private Lanes() {}

    /** acc[ao..ao+n) += a[xo..] * b[bo..]. */
    static void fma(float[] acc, int ao, float[] a, int xo, float[] b, int bo, int n) {
      if (VectorSupport.AVAILABLE) {
        DepthwiseVectors.fma(acc, ao, a, xo, b, bo, n);
        return;
      }
      for (int i = 0; i < n; i++) {
        acc[ao + i] += a[xo + i] * b[bo + i];
      }
    }

    /** acc[ao..ao+n) += s * b[bo..]. */
    static void axpy(float[] acc, int ao, float s, float[] b, int bo, int n) {
      for (int i = 0; i < n; i++) {
        acc[ao + i] += s * b[bo + i];
      }
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
      float s = 0;
      for (int i = 0; i < n; i++) {
        s += a[ao + i] * b[bo + i];
      }
      return s;
    }
  }
}
