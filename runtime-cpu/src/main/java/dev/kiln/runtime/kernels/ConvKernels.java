package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Blas;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.DType;

/**
 * Conv2D and its two backprops. Float32 runs as im2col + sgemm over chunks of images: the windows of
 * a chunk are copied into the rows of a column matrix [rows = images*OH*OW, kh*kw*C/groups] (in
 * parallel over the images), which one product per group multiplies by the filter (HWIO is already
 * that matrix's [kh*kw*C/groups, K] right operand), writing the chunk's output rows in place. The
 * filter gradient accumulates colᵀ·dy over the chunks; the input gradient computes dy·filterᵀ into
 * the column matrix and adds it back into the windows (col2im). A 1x1 stride-1 unpadded convolution
 * uses the input itself as the column matrix. Float64 (and float32 without the strided BLAS call)
 * runs as direct loops. NCHW tensors are transposed to NHWC around the computation.
 */
final class ConvKernels {
  private ConvKernels() {}

  /**
   * Most elements of the column matrix one chunk of images fills (64 MB of floats): few large products,
   * since each BLAS call pays for waking and joining its threads, which costs more than the cache
   * misses of a large column matrix.
   */
  static final int CHUNK_ELEMENTS = 1 << 24;

  /**
   * Windows of at most this many elements (kh*kw*C/groups) take their filter gradient by loops rather
   * than im2col + sgemm: a product with so small a result ([window, K]) and so long an inner dimension
   * (every output pixel of the batch) runs far below BLAS's peak.
   */
  static final int SHALLOW = 32;

  enum Kind { FORWARD, BACKPROP_INPUT, BACKPROP_FILTER }

  static KernelFactory factory(Kind kind) {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      int[] a = KernelSupport.inDims(spec, 0);
      int[] b = KernelSupport.inDims(spec, 1);
      int[] out = KernelSupport.outDims(spec, 0);
      ConvGeometry g = switch (kind) {
        case FORWARD -> ConvGeometry.convolution(spec.op().attrs(), a, b);
        case BACKPROP_INPUT -> ConvGeometry.convolution(spec.op().attrs(), out, a);
        case BACKPROP_FILTER -> ConvGeometry.convolution(spec.op().attrs(), a, out);
      };
      int s0 = spec.inputSlots()[0];
      int s1 = spec.inputSlots()[1];
      int so = spec.outputSlots()[0];
      if (d == DType.FLOAT32 && Blas.gemmAtAvailable()) {
        Im2colConv c = new Im2colConv(g);
        return switch (kind) {
          case FORWARD -> frame -> c.forward((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
          case BACKPROP_INPUT -> frame -> c.backpropInput((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
          case BACKPROP_FILTER -> frame -> c.backpropFilter((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
        };
      }
      DirectConv c = new DirectConv(g);
      return switch (d) {
        case FLOAT64 -> frame -> c.run(kind, (double[]) frame[s0], (double[]) frame[s1], (double[]) frame[so]);
        case FLOAT32 -> frame -> c.run(kind, (float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
        default -> throw KernelSupport.unsupported(spec, d);
      };
    };
  }

  /** NCHW [n,c,hw] to NHWC [n,hw,c]. */
  static void toNhwc(float[] src, float[] dst, int n, int c, int hw) {
    for (int i = 0; i < n; i++) {
      int base = i * c * hw;
      for (int ch = 0; ch < c; ch++) {
        int s = base + ch * hw;
        for (int p = 0; p < hw; p++) {
          dst[base + p * c + ch] = src[s + p];
        }
      }
    }
  }

  /** NHWC [n,hw,c] to NCHW [n,c,hw]. */
  static void toNchw(float[] src, float[] dst, int n, int c, int hw) {
    for (int i = 0; i < n; i++) {
      int base = i * c * hw;
      for (int ch = 0; ch < c; ch++) {
        int d = base + ch * hw;
        for (int p = 0; p < hw; p++) {
          dst[d + p] = src[base + p * c + ch];
        }
      }
    }
  }

  static void toNhwc(double[] src, double[] dst, int n, int c, int hw) {
    for (int i = 0; i < n; i++) {
      int base = i * c * hw;
      for (int ch = 0; ch < c; ch++) {
        int s = base + ch * hw;
        for (int p = 0; p < hw; p++) {
          dst[base + p * c + ch] = src[s + p];
        }
      }
    }
  }

  static void toNchw(double[] src, double[] dst, int n, int c, int hw) {
    for (int i = 0; i < n; i++) {
      int base = i * c * hw;
      for (int ch = 0; ch < c; ch++) {
        int d = base + ch * hw;
        for (int p = 0; p < hw; p++) {
          dst[d + p] = src[base + p * c + ch];
        }
      }
    }
  }

  /** The float32 im2col + sgemm convolution of one geometry. */
  static final class Im2colConv {
    private final ConvGeometry g;
    private final int n;
    private final int ohw;
    private final int kk;
    private final int chunk;
    private final boolean direct;
    private final boolean shallow;
    private final int inSize;
    private final int outSize;
    private final ScratchPool<float[]> cols;
    private final ScratchPool<float[][]> layouts;

    Im2colConv(ConvGeometry g) {
      this.g = g;
      this.n = g.batch();
      this.ohw = g.outH() * g.outW();
      this.kk = g.kh() * g.kw() * g.groupInC();
      this.direct = g.kh() == 1 && g.kw() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padTop() == 0
          && g.padLeft() == 0 && g.groups() == 1 && g.outH() == g.inH() && g.outW() == g.inW();
      this.shallow = !direct && kk <= SHALLOW;
      long perImage = Math.max(1L, (long) ohw * kk);
      this.chunk = (int) Math.max(1, Math.min(Math.max(n, 1), CHUNK_ELEMENTS / perImage));
      this.inSize = n * g.inH() * g.inW() * g.inC();
      this.outSize = n * ohw * g.outC();
      int colSize = (int) Math.min(Integer.MAX_VALUE - 8, (long) chunk * perImage);
      this.cols = new ScratchPool<>(() -> new float[direct ? 0 : colSize]);
      this.layouts = new ScratchPool<>(() -> g.nchw() ? new float[][] {new float[inSize], new float[outSize]} : null);
      int filterSize = kk * g.outC();
      this.partials = new ScratchPool<>(() -> new float[Parallel.THREADS][filterSize]);
    }

    private final ScratchPool<float[][]> partials;

    void forward(float[] xIn, float[] w, float[] yOut) {
      float[][] lay = g.nchw() ? layouts.take() : null;
      float[] col = cols.take();
      try {
        float[] x = xIn;
        float[] y = yOut;
        if (lay != null) {
          x = lay[0];
          y = lay[1];
          toNhwc(xIn, x, n, g.inC(), g.inH() * g.inW());
        }
        int k = g.outC();
        int kg = g.groupOutC();
        for (int n0 = 0; n0 < n; n0 += chunk) {
          int images = Math.min(chunk, n - n0);
          int rows = images * ohw;
          for (int gi = 0; gi < g.groups(); gi++) {
            if (direct) {
              Blas.sgemmAt(false, false, rows, k, kk, 1f, x, n0 * ohw * g.inC(), kk, w, 0, k, 0f, y, n0 * ohw * k, k);
            } else {
              im2col(x, col, n0, images, gi);
              Blas.sgemmAt(false, false, rows, kg, kk, 1f, col, 0, kk, w, gi * kg, k, 0f, y, n0 * ohw * k + gi * kg, k);
            }
          }
        }
        if (lay != null) {
          toNchw(y, yOut, n, k, ohw);
        }
      } finally {
        cols.give(col);
        if (lay != null) {
          layouts.give(lay);
        }
      }
    }

    /** Inputs (filter, dy), output dx. */
    void backpropInput(float[] w, float[] dyIn, float[] dxOut) {
      float[][] lay = g.nchw() ? layouts.take() : null;
      float[] col = cols.take();
      try {
        float[] dy = dyIn;
        float[] dx = dxOut;
        if (lay != null) {
          dx = lay[0];
          dy = lay[1];
          toNhwc(dyIn, dy, n, g.outC(), ohw);
        }
        int k = g.outC();
        int kg = g.groupOutC();
        int imageIn = g.inH() * g.inW() * g.inC();
        for (int n0 = 0; n0 < n; n0 += chunk) {
          int images = Math.min(chunk, n - n0);
          int rows = images * ohw;
          if (direct) {
            Blas.sgemmAt(false, true, rows, kk, k, 1f, dy, n0 * ohw * k, k, w, 0, k, 0f, dx, n0 * imageIn, kk);
            continue;
          }
          java.util.Arrays.fill(dx, n0 * imageIn, (n0 + images) * imageIn, 0f);
          for (int gi = 0; gi < g.groups(); gi++) {
            Blas.sgemmAt(false, true, rows, kk, kg, 1f, dy, n0 * ohw * k + gi * kg, k, w, gi * kg, k, 0f, col, 0, kk);
            col2im(col, dx, n0, images, gi);
          }
        }
        if (lay != null) {
          toNchw(dx, dxOut, n, g.inC(), g.inH() * g.inW());
        }
      } finally {
        cols.give(col);
        if (lay != null) {
          layouts.give(lay);
        }
      }
    }

    /** Inputs (x, dy), output dw. */
    void backpropFilter(float[] xIn, float[] dyIn, float[] dw) {
      float[][] lay = g.nchw() ? layouts.take() : null;
      float[] col = cols.take();
      try {
        float[] x = xIn;
        float[] dy = dyIn;
        if (lay != null) {
          x = lay[0];
          dy = lay[1];
          toNhwc(xIn, x, n, g.inC(), g.inH() * g.inW());
          toNhwc(dyIn, dy, n, g.outC(), ohw);
        }
        int k = g.outC();
        int kg = g.groupOutC();
        if (n == 0) {
          java.util.Arrays.fill(dw, 0, kk * k, 0f);
        }
        if (shallow && n > 0) {
          shallowFilter(x, dy, dw);
        }
        for (int n0 = 0; n0 < n && !shallow; n0 += chunk) {
          int images = Math.min(chunk, n - n0);
          int rows = images * ohw;
          float beta = n0 == 0 ? 0f : 1f;
          for (int gi = 0; gi < g.groups(); gi++) {
            if (direct) {
              Blas.sgemmAt(true, false, kk, k, rows, 1f, x, n0 * ohw * g.inC(), kk, dy, n0 * ohw * k, k, beta, dw, 0, k);
            } else {
              im2col(x, col, n0, images, gi);
              Blas.sgemmAt(true, false, kk, kg, rows, 1f, col, 0, kk, dy, n0 * ohw * k + gi * kg, k, beta, dw, gi * kg, k);
            }
          }
        }
      } finally {
        cols.give(col);
        if (lay != null) {
          layouts.give(lay);
        }
      }
    }

    /** A shallow window's filter gradient: each core sums its images into its own partial filter, then they are added. */
    private void shallowFilter(float[] x, float[] dy, float[] dw) {
      int parts = Parallel.parts(n, (long) ohw * kk * g.outC());
      float[][] acc = partials.take();
      try {
        int size = kk * g.outC();
        Parallel.split(parts, parts, (p0, p1) -> {
          for (int p = p0; p < p1; p++) {
            float[] a = acc[p];
            java.util.Arrays.fill(a, 0, size, 0f);
            shallowFilterPart(x, dy, a, Parallel.bound(n, parts, p), Parallel.bound(n, parts, p + 1));
          }
        });
        System.arraycopy(acc[0], 0, dw, 0, size);
        for (int p = 1; p < parts; p++) {
          float[] a = acc[p];
          for (int e = 0; e < size; e++) {
            dw[e] += a[e];
          }
        }
      } finally {
        partials.give(acc);
      }
    }

    private void shallowFilterPart(float[] x, float[] dy, float[] dw, int lo, int hi) {
      int k = g.outC();
      int kg = g.groupOutC();
      int cg = g.groupInC();
      int c = g.inC();
      for (int im = lo; im < hi; im++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          for (int ow = 0; ow < g.outW(); ow++) {
            int yo = ((im * g.outH() + oh) * g.outW() + ow) * k;
            for (int i = 0; i < g.kh(); i++) {
              int ih = oh * g.strideH() - g.padTop() + i * g.dilH();
              if (ih < 0 || ih >= g.inH()) {
                continue;
              }
              for (int j = 0; j < g.kw(); j++) {
                int iw = ow * g.strideW() - g.padLeft() + j * g.dilW();
                if (iw < 0 || iw >= g.inW()) {
                  continue;
                }
                int xo = ((im * g.inH() + ih) * g.inW() + iw) * c;
                for (int gi = 0; gi < g.groups(); gi++) {
                  for (int q = 0; q < cg; q++) {
                    float a = x[xo + gi * cg + q];
                    int wo = ((i * g.kw() + j) * cg + q) * k + gi * kg;
                    int yg = yo + gi * kg;
                    for (int o = 0; o < kg; o++) {
                      dw[wo + o] += a * dy[yg + o];
                    }
                  }
                }
              }
            }
          }
        }
      }
    }

    /** Fills col's rows with the windows of images [n0, n0+images) for group gi (zeros outside the input). */
    private void im2col(float[] x, float[] col, int n0, int images, int gi) {
      Parallel.split(images, Parallel.parts(images, (long) ohw * kk), (lo, hi) -> {
        int cg = g.groupInC();
        int c = g.inC();
        int h = g.inH();
        int w = g.inW();
        for (int im = lo; im < hi; im++) {
          int xBase = (n0 + im) * h * w * c + gi * cg;
          int r = im * ohw * kk;
          for (int oh = 0; oh < g.outH(); oh++) {
            int ih0 = oh * g.strideH() - g.padTop();
            for (int ow = 0; ow < g.outW(); ow++) {
              int iw0 = ow * g.strideW() - g.padLeft();
              for (int i = 0; i < g.kh(); i++) {
                int ih = ih0 + i * g.dilH();
                boolean rowIn = ih >= 0 && ih < h;
                for (int j = 0; j < g.kw(); j++) {
                  int iw = iw0 + j * g.dilW();
                  if (rowIn && iw >= 0 && iw < w) {
                    int s = xBase + (ih * w + iw) * c;
                    if (cg == 1) {
                      col[r] = x[s];
                    } else {
                      System.arraycopy(x, s, col, r, cg);
                    }
                  } else {
                    java.util.Arrays.fill(col, r, r + cg, 0f);
                  }
                  r += cg;
                }
              }
            }
          }
        }
      });
    }

    /** Adds col's rows back into the windows of images [n0, n0+images) of dx for group gi. */
    private void col2im(float[] col, float[] dx, int n0, int images, int gi) {
      Parallel.split(images, Parallel.parts(images, (long) ohw * kk), (lo, hi) -> {
        int cg = g.groupInC();
        int c = g.inC();
        int h = g.inH();
        int w = g.inW();
        for (int im = lo; im < hi; im++) {
          int xBase = (n0 + im) * h * w * c + gi * cg;
          int r = im * ohw * kk;
          for (int oh = 0; oh < g.outH(); oh++) {
            int ih0 = oh * g.strideH() - g.padTop();
            for (int ow = 0; ow < g.outW(); ow++) {
              int iw0 = ow * g.strideW() - g.padLeft();
              for (int i = 0; i < g.kh(); i++) {
                int ih = ih0 + i * g.dilH();
                boolean rowIn = ih >= 0 && ih < h;
                for (int j = 0; j < g.kw(); j++) {
                  int iw = iw0 + j * g.dilW();
                  if (rowIn && iw >= 0 && iw < w) {
                    int s = xBase + (ih * w + iw) * c;
                    for (int q = 0; q < cg; q++) {
                      dx[s + q] += col[r + q];
                    }
                  }
                  r += cg;
                }
              }
            }
          }
        }
      });
    }
  }

  /** Direct loops in double precision for any geometry: float64, and float32 without the strided sgemm. */
  static final class DirectConv {
    private final ConvGeometry g;

    DirectConv(ConvGeometry g) {
      this.g = g;
    }

    void run(Kind kind, float[] a, float[] b, float[] out) {
      double[] da = toDouble(a, sizeOfInput(kind, 0));
      double[] db = toDouble(b, sizeOfInput(kind, 1));
      double[] dout = new double[sizeOfOutput(kind)];
      run(kind, da, db, dout);
      for (int i = 0; i < dout.length; i++) {
        out[i] = (float) dout[i];
      }
    }

    private static double[] toDouble(float[] v, int size) {
      double[] d = new double[size];
      for (int i = 0; i < size; i++) {
        d[i] = v[i];
      }
      return d;
    }

    private int imageSize() {
      return g.batch() * g.inH() * g.inW() * g.inC();
    }

    private int filterSize() {
      return g.kh() * g.kw() * g.groupInC() * g.outC();
    }

    private int outputSize() {
      return g.batch() * g.outH() * g.outW() * g.outC();
    }

    private int sizeOfInput(Kind kind, int i) {
      return switch (kind) {
        case FORWARD -> i == 0 ? imageSize() : filterSize();
        case BACKPROP_INPUT -> i == 0 ? filterSize() : outputSize();
        case BACKPROP_FILTER -> i == 0 ? imageSize() : outputSize();
      };
    }

    private int sizeOfOutput(Kind kind) {
      return switch (kind) {
        case FORWARD -> outputSize();
        case BACKPROP_INPUT -> imageSize();
        case BACKPROP_FILTER -> filterSize();
      };
    }

    void run(Kind kind, double[] a, double[] b, double[] out) {
      int hw = g.inH() * g.inW();
      int ohw = g.outH() * g.outW();
      double[] x;
      double[] w;
      double[] y;
      switch (kind) {
        case FORWARD -> {
          x = nhwc(a, g.inC(), hw);
          w = b;
          y = new double[outputSize()];
        }
        case BACKPROP_INPUT -> {
          w = a;
          y = nhwc(b, g.outC(), ohw);
          x = new double[imageSize()];
        }
        default -> {
          x = nhwc(a, g.inC(), hw);
          y = nhwc(b, g.outC(), ohw);
          w = new double[filterSize()];
        }
      }
      loops(kind, x, w, y);
      switch (kind) {
        case FORWARD -> store(y, out, g.outC(), ohw);
        case BACKPROP_INPUT -> store(x, out, g.inC(), hw);
        default -> System.arraycopy(w, 0, out, 0, w.length);
      }
    }

    private double[] nhwc(double[] v, int c, int hw) {
      if (!g.nchw()) {
        return v;
      }
      double[] t = new double[g.batch() * c * hw];
      toNhwc(v, t, g.batch(), c, hw);
      return t;
    }

    private void store(double[] v, double[] out, int c, int hw) {
      if (g.nchw()) {
        toNchw(v, out, g.batch(), c, hw);
      } else {
        System.arraycopy(v, 0, out, 0, g.batch() * c * hw);
      }
    }

    /** The convolution's sum, visited once: forward fills y, the backprops accumulate into x or w. */
    private void loops(Kind kind, double[] x, double[] w, double[] y) {
      int c = g.inC();
      int cg = g.groupInC();
      int k = g.outC();
      int kg = g.groupOutC();
      for (int im = 0; im < g.batch(); im++) {
        for (int oh = 0; oh < g.outH(); oh++) {
          for (int ow = 0; ow < g.outW(); ow++) {
            int yBase = ((im * g.outH() + oh) * g.outW() + ow) * k;
            for (int ko = 0; ko < k; ko++) {
              int gi = ko / kg;
              double sum = 0;
              double dy = kind == Kind.FORWARD ? 0 : y[yBase + ko];
              for (int i = 0; i < g.kh(); i++) {
                int ih = oh * g.strideH() - g.padTop() + i * g.dilH();
                if (ih < 0 || ih >= g.inH()) {
                  continue;
                }
                for (int j = 0; j < g.kw(); j++) {
                  int iw = ow * g.strideW() - g.padLeft() + j * g.dilW();
                  if (iw < 0 || iw >= g.inW()) {
                    continue;
                  }
                  int xBase = ((im * g.inH() + ih) * g.inW() + iw) * c + gi * cg;
                  int wBase = (i * g.kw() + j) * cg * k + ko;
                  for (int q = 0; q < cg; q++) {
                    switch (kind) {
                      case FORWARD -> sum += x[xBase + q] * w[wBase + q * k];
                      case BACKPROP_INPUT -> x[xBase + q] += dy * w[wBase + q * k];
                      case BACKPROP_FILTER -> w[wBase + q * k] += dy * x[xBase + q];
                    }
                  }
                }
              }
              if (kind == Kind.FORWARD) {
                y[yBase + ko] = sum;
              }
            }
          }
        }
      }
    }
  }
}
