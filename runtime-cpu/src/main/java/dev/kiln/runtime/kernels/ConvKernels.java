package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Blas;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.DType;
import java.util.Optional;

/**
 * Conv2D and its two backprops. Float32 runs on oneDNN ({@link DnnlConv}) except NHWC depthwise
 * convolutions ({@link DepthwiseConv}); without oneDNN, or where it declines a geometry, as im2col +
 * sgemm over blocks of images, one block per task on one core ({@link Im2colConv}); float64 (and
 * float32 without either) runs as direct loops. Kiln's own paths transpose NCHW tensors to NHWC around
 * the computation; oneDNN reorders them into its blocked layout.
 */
final class ConvKernels {
  private ConvKernels() {}

  /**
   * Most elements of one block's column matrix (512 KB of floats): a block of images is turned into
   * columns and multiplied by one core while its columns are still in that core's cache.
   */
  static final int BLOCK_ELEMENTS = 1 << 17;

  /** Most bytes of the two operands of one filter-gradient product (a quarter of a core's L2 cache). */
  static final long FILTER_STEP_BYTES = 1 << 18;

  /** Multiply-adds from which a convolution hands its blocks of images to all cores. */
  static final long PARALLEL_MACS = 1 << 20;

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
      if (d == DType.FLOAT32 && DepthwiseConv.handles(g)) {
        DepthwiseConv c = new DepthwiseConv(g);
        return switch (kind) {
          case FORWARD -> frame -> c.forward((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
          case BACKPROP_INPUT -> frame -> c.backpropInput((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
          case BACKPROP_FILTER -> frame -> c.backpropFilter((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so]);
        };
      }
      var dnnl = d == DType.FLOAT32 ? DnnlConv.create(g, kind, false, false) : Optional.<DnnlPrimitive>empty();
      if (dnnl.isPresent()) {
        DnnlPrimitive c = dnnl.get();
        return frame -> c.run((float[]) frame[so], (float[]) frame[s0], (float[]) frame[s1]);
      }
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

  /** Work done on the rows [r0, r1) of a forward convolution's NHWC output once a block has computed them. */
  @FunctionalInterface
  interface Epilogue {
    void apply(float[] y, int r0, int r1);
  }

  /**
   * The float32 im2col + sgemm convolution of one geometry. The batch is cut into blocks of images
   * whose column matrix holds at most {@link #BLOCK_ELEMENTS}; a block is one task for one core: its
   * windows are copied into the column matrix [images*OH*OW, kh*kw*C/groups], which one
   * single-threaded product per group multiplies by the filter (HWIO is already that matrix's
   * [kh*kw*C/groups, K] right operand) while it is still in that core's cache. The cores take blocks
   * in turn. The filter gradient sums colᵀ·dy over each core's blocks into that core's own partial
   * filter, then adds the partials; the input gradient computes dy·filterᵀ into the column matrix and
   * adds it back into the windows (col2im). A 1x1 stride-1 unpadded convolution uses the input itself
   * as the column matrix. NCHW tensors are transposed to NHWC around the computation.
   */
  static final class Im2colConv {
    private final ConvGeometry g;
    private final int n;
    private final int ohw;
    private final int kk;
    private final int block;
    private final int blocks;
    private final int parts;
    private final boolean direct;
    private final int inSize;
    private final int outSize;
    private final int filterSize;
    /** Images per product of the filter gradient: its operands (rows of col and of dy) within {@link #FILTER_STEP_BYTES}. */
    private final int filterStep;
    private final ScratchPool<float[]> cols;
    private final ScratchPool<float[][]> layouts;
    private final ScratchPool<float[][]> partials;

    Im2colConv(ConvGeometry g) {
      this.g = g;
      this.n = g.batch();
      this.ohw = g.outH() * g.outW();
      this.kk = g.kh() * g.kw() * g.groupInC();
      this.direct = g.kh() == 1 && g.kw() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padTop() == 0
          && g.padLeft() == 0 && g.groups() == 1 && g.outH() == g.inH() && g.outW() == g.inW();
      long perImage = Math.max(1L, (long) ohw * kk);
      this.block = (int) Math.max(1, Math.min(Math.max(n, 1), BLOCK_ELEMENTS / perImage));
      this.blocks = (n + block - 1) / block;
      long macs = (long) n * ohw * kk * g.groupOutC();
      this.parts = macs < PARALLEL_MACS ? 1 : Math.max(1, Math.min(Parallel.THREADS, blocks));
      this.inSize = n * g.inH() * g.inW() * g.inC();
      this.outSize = n * ohw * g.outC();
      this.filterSize = kk * g.outC();
      long stepBytes = Math.max(1L, (long) ohw * (kk + g.groupOutC()) * Float.BYTES);
      this.filterStep = (int) Math.max(1, Math.min(block, FILTER_STEP_BYTES / stepBytes));
      int colSize = (int) Math.min(Integer.MAX_VALUE - 8, (long) block * perImage);
      this.cols = new ScratchPool<>(() -> new float[direct ? 0 : colSize]);
      this.layouts = new ScratchPool<>(() -> g.nchw() ? new float[][] {new float[inSize], new float[outSize]} : null);
      this.partials = new ScratchPool<>(() -> new float[parts][filterSize]);
    }

    void forward(float[] xIn, float[] w, float[] yOut) {
      forward(xIn, w, yOut, null);
    }

    /** The convolution, then {@code epilogue} (if not null) on each block's output rows while they are in cache. */
    void forward(float[] xIn, float[] w, float[] yOut, Epilogue epilogue) {
      float[][] lay = g.nchw() ? layouts.take() : null;
      try {
        float[] x = lay != null ? lay[0] : xIn;
        float[] y = lay != null ? lay[1] : yOut;
        if (lay != null) {
          toNhwc(xIn, x, n, g.inC(), g.inH() * g.inW());
        }
        Parallel.dynamic(n, block, parts, (lo, hi) -> forwardBlock(x, w, y, lo, hi, epilogue));
        if (lay != null) {
          toNchw(y, yOut, n, g.outC(), ohw);
        }
      } finally {
        if (lay != null) {
          layouts.give(lay);
        }
      }
    }

    private void forwardBlock(float[] x, float[] w, float[] y, int n0, int n1, Epilogue epilogue) {
      if (n1 <= n0) {
        return;
      }
      int images = n1 - n0;
      int rows = images * ohw;
      int k = g.outC();
      int kg = g.groupOutC();
      if (direct) {
        Blas.sgemmAt(false, false, rows, k, kk, 1f, x, n0 * ohw * g.inC(), kk, w, 0, k, 0f, y, n0 * ohw * k, k);
      } else {
        float[] col = cols.take();
        try {
          for (int gi = 0; gi < g.groups(); gi++) {
            im2col(x, col, n0, images, gi);
            Blas.sgemmAt(false, false, rows, kg, kk, 1f, col, 0, kk, w, gi * kg, k, 0f, y, n0 * ohw * k + gi * kg, k);
          }
        } finally {
          cols.give(col);
        }
      }
      if (epilogue != null) {
        epilogue.apply(y, n0 * ohw, n1 * ohw);
      }
    }

    /** Inputs (filter, dy), output dx. */
    void backpropInput(float[] w, float[] dyIn, float[] dxOut) {
      float[][] lay = g.nchw() ? layouts.take() : null;
      try {
        float[] dx = lay != null ? lay[0] : dxOut;
        float[] dy = lay != null ? lay[1] : dyIn;
        if (lay != null) {
          toNhwc(dyIn, dy, n, g.outC(), ohw);
        }
        Parallel.dynamic(n, block, parts, (lo, hi) -> backpropInputBlock(w, dy, dx, lo, hi));
        if (lay != null) {
          toNchw(dx, dxOut, n, g.inC(), g.inH() * g.inW());
        }
      } finally {
        if (lay != null) {
          layouts.give(lay);
        }
      }
    }

    private void backpropInputBlock(float[] w, float[] dy, float[] dx, int n0, int n1) {
      if (n1 <= n0) {
        return;
      }
      int images = n1 - n0;
      int rows = images * ohw;
      int k = g.outC();
      int kg = g.groupOutC();
      int imageIn = g.inH() * g.inW() * g.inC();
      if (direct) {
        Blas.sgemmAt(false, true, rows, kk, k, 1f, dy, n0 * ohw * k, k, w, 0, k, 0f, dx, n0 * imageIn, kk);
        return;
      }
      java.util.Arrays.fill(dx, n0 * imageIn, n1 * imageIn, 0f);
      float[] col = cols.take();
      try {
        for (int gi = 0; gi < g.groups(); gi++) {
          Blas.sgemmAt(false, true, rows, kk, kg, 1f, dy, n0 * ohw * k + gi * kg, k, w, gi * kg, k, 0f, col, 0, kk);
          col2im(col, dx, n0, images, gi);
        }
      } finally {
        cols.give(col);
      }
    }

    /** Inputs (x, dy), output dw. */
    void backpropFilter(float[] xIn, float[] dyIn, float[] dw) {
      float[][] lay = g.nchw() ? layouts.take() : null;
      try {
        float[] x = lay != null ? lay[0] : xIn;
        float[] dy = lay != null ? lay[1] : dyIn;
        if (lay != null) {
          toNhwc(xIn, x, n, g.inC(), g.inH() * g.inW());
          toNhwc(dyIn, dy, n, g.outC(), ohw);
        }
        if (parts <= 1) {
          filterPart(x, dy, dw, 0, n);
          return;
        }
        float[][] acc = partials.take();
        try {
          Parallel.split(parts, parts, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
              int from = Math.min(n, Parallel.bound(blocks, parts, p) * block);
              int to = Math.min(n, Parallel.bound(blocks, parts, p + 1) * block);
              filterPart(x, dy, acc[p], from, to);
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
      } finally {
        if (lay != null) {
          layouts.give(lay);
        }
      }
    }

    /** The filter gradient of images [lo, hi) alone, written to dw. */
    private void filterPart(float[] x, float[] dy, float[] dw, int lo, int hi) {
      if (lo >= hi) {
        java.util.Arrays.fill(dw, 0, filterSize, 0f);
        return;
      }
      int k = g.outC();
      int kg = g.groupOutC();
      float[] col = direct ? null : cols.take();
      try {
        for (int n0 = lo; n0 < hi; n0 += block) {
          int images = Math.min(block, hi - n0);
          for (int gi = 0; gi < g.groups(); gi++) {
            if (!direct) {
              im2col(x, col, n0, images, gi);
            }
            // One product per filterStep images: colᵀ·dy sums over its rows, and with fewer rows both
            // operands stay in cache (a long, narrow colᵀ streams from memory once per column block).
            for (int i0 = 0; i0 < images; i0 += filterStep) {
              int rows = Math.min(filterStep, images - i0) * ohw;
              int first = n0 + i0;
              float beta = first == lo ? 0f : 1f;
              if (direct) {
                Blas.sgemmAt(true, false, kk, k, rows, 1f, x, first * ohw * g.inC(), kk, dy, first * ohw * k, k, beta, dw, 0, k);
              } else {
                Blas.sgemmAt(true, false, kk, kg, rows, 1f, col, i0 * ohw * kk, kk, dy, first * ohw * k + gi * kg, k, beta,
                    dw, gi * kg, k);
              }
            }
          }
        }
      } finally {
        if (col != null) {
          cols.give(col);
        }
      }
    }

    /**
     * Fills col's rows with the windows of images [n0, n0+images) for group gi (zeros outside the
     * input). Without groups or width dilation a window row inside the image is kw*C contiguous floats.
     */
    private void im2col(float[] x, float[] col, int n0, int images, int gi) {
      int cg = g.groupInC();
      int c = g.inC();
      int h = g.inH();
      int w = g.inW();
      int span = g.kw() * cg;
      boolean rowsContiguous = g.groups() == 1 && g.dilW() == 1;
      for (int im = 0; im < images; im++) {
        int xBase = (n0 + im) * h * w * c + gi * cg;
        int r = im * ohw * kk;
        for (int oh = 0; oh < g.outH(); oh++) {
          int ih0 = oh * g.strideH() - g.padTop();
          for (int ow = 0; ow < g.outW(); ow++) {
            int iw0 = ow * g.strideW() - g.padLeft();
            boolean inside = rowsContiguous && iw0 >= 0 && iw0 + g.kw() <= w;
            for (int i = 0; i < g.kh(); i++) {
              int ih = ih0 + i * g.dilH();
              if (ih < 0 || ih >= h) {
                java.util.Arrays.fill(col, r, r + span, 0f);
                r += span;
                continue;
              }
              int rowBase = xBase + ih * w * c;
              if (inside) {
                System.arraycopy(x, rowBase + iw0 * c, col, r, span);
                r += span;
                continue;
              }
              for (int j = 0; j < g.kw(); j++) {
                int iw = iw0 + j * g.dilW();
                if (iw >= 0 && iw < w) {
                  int s = rowBase + iw * c;
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
    }

    /**
     * Adds col's rows back into the windows of images [n0, n0+images) of dx for group gi; a window row
     * inside the image on the Vector API when it is long enough.
     */
    private void col2im(float[] col, float[] dx, int n0, int images, int gi) {
      int cg = g.groupInC();
      int c = g.inC();
      int h = g.inH();
      int w = g.inW();
      int span = g.kw() * cg;
      boolean rowsContiguous = g.groups() == 1 && g.dilW() == 1;
      boolean vectorAdd = VectorSupport.AVAILABLE && span >= 32;
      for (int im = 0; im < images; im++) {
        int xBase = (n0 + im) * h * w * c + gi * cg;
        int r = im * ohw * kk;
        for (int oh = 0; oh < g.outH(); oh++) {
          int ih0 = oh * g.strideH() - g.padTop();
          for (int ow = 0; ow < g.outW(); ow++) {
            int iw0 = ow * g.strideW() - g.padLeft();
            boolean inside = rowsContiguous && iw0 >= 0 && iw0 + g.kw() <= w;
            for (int i = 0; i < g.kh(); i++) {
              int ih = ih0 + i * g.dilH();
              if (ih < 0 || ih >= h) {
                r += span;
                continue;
              }
              int rowBase = xBase + ih * w * c;
              if (inside) {
                int s = rowBase + iw0 * c;
                if (vectorAdd) {
                  VectorArithmetic.f32(ArithmeticKernels.Op.ADD, ArithmeticKernels.VV, dx, s, col, r, dx, s, span);
                } else {
                  for (int q = 0; q < span; q++) {
                    dx[s + q] += col[r + q];
                  }
                }
                r += span;
                continue;
              }
              for (int j = 0; j < g.kw(); j++) {
                int iw = iw0 + j * g.dilW();
                if (iw >= 0 && iw < w) {
                  int s = rowBase + iw * c;
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
