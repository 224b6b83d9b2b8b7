package dev.kiln.runtime.kernels;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.DType;

/**
 * MaxPool, AvgPool, their gradients, and BiasAdd. The loops walk output positions with the channel
 * innermost, which for NHWC is contiguous (and vectorizes); NCHW walks the same loops with other
 * strides. Forward pooling splits the output rows over the cores; the gradients, whose windows overlap
 * within an image, split the images. Float32 NHWC max pooling and its gradient run on the Vector API
 * where it is available ({@link PoolVectors}), and so do float32 NCHW max and average pooling, along
 * each plane's rows ({@link PoolPlanes}).
 */
final class PoolKernels {
  private PoolKernels() {}

  enum Kind { MAX, AVG, MAX_GRAD, AVG_GRAD }

  /** Element strides of one layout: offsets of (image, row, column), and the channel stride. */
  private static final class Layout {
    final ConvGeometry g;
    final int inC;
    final int outC;
    private final int inImage;
    private final int inRow;
    private final int inCol;
    private final int outImage;
    private final int outRow;
    private final int outCol;

    Layout(ConvGeometry g) {
      this.g = g;
      int c = g.inC();
      inImage = g.inH() * g.inW() * c;
      outImage = g.outH() * g.outW() * c;
      if (g.nchw()) {
        inC = g.inH() * g.inW();
        outC = g.outH() * g.outW();
        inRow = g.inW();
        inCol = 1;
        outRow = g.outW();
        outCol = 1;
      } else {
        inC = 1;
        outC = 1;
        inRow = g.inW() * c;
        inCol = c;
        outRow = g.outW() * c;
        outCol = c;
      }
    }

    int inOffset(int im, int h, int w) {
      return im * inImage + h * inRow + w * inCol;
    }

    int outOffset(int im, int h, int w) {
      return im * outImage + h * outRow + w * outCol;
    }
  }

  static KernelFactory factory(Kind kind) {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      int[] in = kind == Kind.AVG_GRAD ? KernelSupport.outDims(spec, 0) : KernelSupport.inDims(spec, 0);
      ConvGeometry g = ConvGeometry.pooling(spec.op().attrs(), in);
      Layout l = new Layout(g);
      int[] slots = spec.inputSlots();
      int so = spec.outputSlots()[0];
      int rows = g.batch() * g.outH();
      int rowParts = Parallel.parts(rows, (long) g.outW() * g.inC() * g.kh() * g.kw());
      int imageParts = Parallel.parts(g.batch(), (long) g.outH() * g.outW() * g.inC() * g.kh() * g.kw());
      if (d == DType.FLOAT32 && !g.nchw() && VectorSupport.AVAILABLE && (kind == Kind.MAX || kind == Kind.MAX_GRAD)) {
        return kind == Kind.MAX
            ? frame -> Parallel.split(rows, rowParts, (a, b) -> PoolVectors.maxPool(g, (float[]) frame[slots[0]], (float[]) frame[so], a, b))
            : frame -> Parallel.split(g.batch(), imageParts, (a, b) -> PoolVectors.maxPoolGrad(g, (float[]) frame[slots[0]],
                (float[]) frame[slots[2]], (float[]) frame[so], a, b));
      }
      if (d == DType.FLOAT32 && g.nchw() && VectorSupport.AVAILABLE && (kind == Kind.MAX || kind == Kind.AVG)) {
        boolean max = kind == Kind.MAX;
        int planeRows = g.batch() * g.inC() * g.outH();
        int planeParts = Parallel.parts(planeRows, (long) g.outW() * g.kh() * g.kw());
        return frame -> Parallel.split(planeRows, planeParts,
            (a, b) -> PoolPlanes.pool(g, max, (float[]) frame[slots[0]], (float[]) frame[so], a, b));
      }
      return switch (d) {
        case FLOAT32 -> switch (kind) {
          case MAX -> frame -> Parallel.split(rows, rowParts, (a, b) -> maxPool(l, (float[]) frame[slots[0]], (float[]) frame[so], a, b));
          case AVG -> frame -> Parallel.split(rows, rowParts, (a, b) -> avgPool(l, (float[]) frame[slots[0]], (float[]) frame[so], a, b));
          case MAX_GRAD -> frame -> Parallel.split(g.batch(), imageParts,
              (a, b) -> maxPoolGrad(l, (float[]) frame[slots[0]], (float[]) frame[slots[2]], (float[]) frame[so], a, b));
          case AVG_GRAD -> frame -> Parallel.split(g.batch(), imageParts,
              (a, b) -> avgPoolGrad(l, (float[]) frame[slots[0]], (float[]) frame[so], a, b));
        };
        case FLOAT64 -> switch (kind) {
          case MAX -> frame -> Parallel.split(rows, rowParts, (a, b) -> maxPool(l, (double[]) frame[slots[0]], (double[]) frame[so], a, b));
          case AVG -> frame -> Parallel.split(rows, rowParts, (a, b) -> avgPool(l, (double[]) frame[slots[0]], (double[]) frame[so], a, b));
          case MAX_GRAD -> frame -> Parallel.split(g.batch(), imageParts,
              (a, b) -> maxPoolGrad(l, (double[]) frame[slots[0]], (double[]) frame[slots[2]], (double[]) frame[so], a, b));
          case AVG_GRAD -> frame -> Parallel.split(g.batch(), imageParts,
              (a, b) -> avgPoolGrad(l, (double[]) frame[slots[0]], (double[]) frame[so], a, b));
        };
        default -> throw KernelSupport.unsupported(spec, d);
      };
    };
  }

  /** BiasAdd: value + bias along the channel axis (last for NHWC, 1 for NCHW). */
  static KernelFactory biasAdd() {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      int[] dims = KernelSupport.outDims(spec, 0);
      boolean nchw = ConvGeometry.nchw(spec.op().attrs());
      int channels = dims[nchw ? 1 : dims.length - 1];
      int size = KernelSupport.size(spec.outputs().get(0));
      // Rows of `inner` elements that share one bias entry: NHWC has rows of 1, NCHW rows of H*W.
      int inner = nchw ? (int) KernelSupport.product(dims, 2, dims.length) : 1;
      int rowCount = inner == 0 ? 0 : size / inner;
      int outer = channels == 0 ? 0 : rowCount / channels;
      int parts = Parallel.parts(rowCount, inner);
      int sv = spec.inputSlots()[0];
      int sb = spec.inputSlots()[1];
      int so = spec.outputSlots()[0];
      return switch (d) {
        case FLOAT32 -> frame -> Parallel.split(rowCount, parts,
            (a, b) -> biasAdd((float[]) frame[sv], (float[]) frame[sb], (float[]) frame[so], outer, channels, inner, a, b));
        case FLOAT64 -> frame -> Parallel.split(rowCount, parts,
            (a, b) -> biasAdd((double[]) frame[sv], (double[]) frame[sb], (double[]) frame[so], outer, channels, inner, a, b));
        default -> throw KernelSupport.unsupported(spec, d);
      };
    };
  }

  // ---------------------------------------------------------------- float

  private static void maxPool(Layout l, float[] x, float[] y, int r0, int r1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    for (int r = r0; r < r1; r++) {
      int im = r / g.outH();
      int oh = r % g.outH();
      int ih0 = oh * g.strideH() - g.padTop();
      for (int ow = 0; ow < g.outW(); ow++) {
        int iw0 = ow * g.strideW() - g.padLeft();
        int yo = l.outOffset(im, oh, ow);
        for (int ch = 0; ch < c; ch++) {
          y[yo + ch * l.outC] = Float.NEGATIVE_INFINITY;
        }
        for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
          for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
            int xo = l.inOffset(im, ih0 + i, iw0 + j);
            for (int ch = 0; ch < c; ch++) {
              y[yo + ch * l.outC] = Math.max(y[yo + ch * l.outC], x[xo + ch * l.inC]);
            }
          }
        }
      }
    }
  }

  private static void avgPool(Layout l, float[] x, float[] y, int r0, int r1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    for (int r = r0; r < r1; r++) {
      int im = r / g.outH();
      int oh = r % g.outH();
      int ih0 = oh * g.strideH() - g.padTop();
      for (int ow = 0; ow < g.outW(); ow++) {
        int iw0 = ow * g.strideW() - g.padLeft();
        int yo = l.outOffset(im, oh, ow);
        for (int ch = 0; ch < c; ch++) {
          y[yo + ch * l.outC] = 0;
        }
        int count = 0;
        for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
          for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
            int xo = l.inOffset(im, ih0 + i, iw0 + j);
            for (int ch = 0; ch < c; ch++) {
              y[yo + ch * l.outC] += x[xo + ch * l.inC];
            }
            count++;
          }
        }
        float inv = (float) (1.0 / count);
        for (int ch = 0; ch < c; ch++) {
          y[yo + ch * l.outC] *= inv;
        }
      }
    }
  }

  /** dx of images [n0, n1): each output's gradient goes to the first maximum of its window. */
  private static void maxPoolGrad(Layout l, float[] x, float[] dy, float[] dx, int n0, int n1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    int image = g.inH() * g.inW() * c;
    java.util.Arrays.fill(dx, n0 * image, n1 * image, (float) 0);
    for (int im = n0; im < n1; im++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        int ih0 = oh * g.strideH() - g.padTop();
        for (int ow = 0; ow < g.outW(); ow++) {
          int iw0 = ow * g.strideW() - g.padLeft();
          int yo = l.outOffset(im, oh, ow);
          for (int ch = 0; ch < c; ch++) {
            float best = Float.NEGATIVE_INFINITY;
            int at = -1;
            for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
              for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
                int xo = l.inOffset(im, ih0 + i, iw0 + j) + ch * l.inC;
                if (at < 0 || x[xo] > best || (x[xo] != x[xo] && best == best)) {
                  best = x[xo];
                  at = xo;
                }
              }
            }
            dx[at] += dy[yo + ch * l.outC];
          }
        }
      }
    }
  }

  /** dx of images [n0, n1): each output's gradient spread evenly over its window's valid elements. */
  private static void avgPoolGrad(Layout l, float[] dy, float[] dx, int n0, int n1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    int image = g.inH() * g.inW() * c;
    java.util.Arrays.fill(dx, n0 * image, n1 * image, (float) 0);
    for (int im = n0; im < n1; im++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        int ih0 = oh * g.strideH() - g.padTop();
        int i0 = Math.max(0, -ih0);
        int i1 = Math.min(g.kh(), g.inH() - ih0);
        for (int ow = 0; ow < g.outW(); ow++) {
          int iw0 = ow * g.strideW() - g.padLeft();
          int j0 = Math.max(0, -iw0);
          int j1 = Math.min(g.kw(), g.inW() - iw0);
          int yo = l.outOffset(im, oh, ow);
          float inv = (float) (1.0 / ((i1 - i0) * (j1 - j0)));
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              int xo = l.inOffset(im, ih0 + i, iw0 + j);
              for (int ch = 0; ch < c; ch++) {
                dx[xo + ch * l.inC] += dy[yo + ch * l.outC] * inv;
              }
            }
          }
        }
      }
    }
  }

  private static void biasAdd(float[] v, float[] b, float[] out, int outer, int channels, int inner, int r0, int r1) {
    if (inner == 1) {
      // NHWC: whole pixels of channels in a loop C2 vectorizes; the parts' bounds need not be pixels'.
      int r = r0;
      for (; r < r1 && r % channels != 0; r++) {
        out[r] = v[r] + b[r % channels];
      }
      for (; r + channels <= r1; r += channels) {
        for (int ch = 0; ch < channels; ch++) {
          out[r + ch] = v[r + ch] + b[ch];
        }
      }
      for (; r < r1; r++) {
        out[r] = v[r] + b[r % channels];
      }
      return;
    }
    for (int r = r0; r < r1; r++) {
      int ch = r % channels;
      int base = r * inner;
      if (inner == 1) {
        out[r] = v[r] + b[ch];
        continue;
      }
      float bias = b[ch];
      for (int p = 0; p < inner; p++) {
        out[base + p] = v[base + p] + bias;
      }
    }
  }

  // ---------------------------------------------------------------- double

  private static void maxPool(Layout l, double[] x, double[] y, int r0, int r1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    for (int r = r0; r < r1; r++) {
      int im = r / g.outH();
      int oh = r % g.outH();
      int ih0 = oh * g.strideH() - g.padTop();
      for (int ow = 0; ow < g.outW(); ow++) {
        int iw0 = ow * g.strideW() - g.padLeft();
        int yo = l.outOffset(im, oh, ow);
        for (int ch = 0; ch < c; ch++) {
          y[yo + ch * l.outC] = Double.NEGATIVE_INFINITY;
        }
        for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
          for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
            int xo = l.inOffset(im, ih0 + i, iw0 + j);
            for (int ch = 0; ch < c; ch++) {
              y[yo + ch * l.outC] = Math.max(y[yo + ch * l.outC], x[xo + ch * l.inC]);
            }
          }
        }
      }
    }
  }

  private static void avgPool(Layout l, double[] x, double[] y, int r0, int r1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    for (int r = r0; r < r1; r++) {
      int im = r / g.outH();
      int oh = r % g.outH();
      int ih0 = oh * g.strideH() - g.padTop();
      for (int ow = 0; ow < g.outW(); ow++) {
        int iw0 = ow * g.strideW() - g.padLeft();
        int yo = l.outOffset(im, oh, ow);
        for (int ch = 0; ch < c; ch++) {
          y[yo + ch * l.outC] = 0;
        }
        int count = 0;
        for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
          for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
            int xo = l.inOffset(im, ih0 + i, iw0 + j);
            for (int ch = 0; ch < c; ch++) {
              y[yo + ch * l.outC] += x[xo + ch * l.inC];
            }
            count++;
          }
        }
        double inv = (double) (1.0 / count);
        for (int ch = 0; ch < c; ch++) {
          y[yo + ch * l.outC] *= inv;
        }
      }
    }
  }

  /** dx of images [n0, n1): each output's gradient goes to the first maximum of its window. */
  private static void maxPoolGrad(Layout l, double[] x, double[] dy, double[] dx, int n0, int n1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    int image = g.inH() * g.inW() * c;
    java.util.Arrays.fill(dx, n0 * image, n1 * image, (double) 0);
    for (int im = n0; im < n1; im++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        int ih0 = oh * g.strideH() - g.padTop();
        for (int ow = 0; ow < g.outW(); ow++) {
          int iw0 = ow * g.strideW() - g.padLeft();
          int yo = l.outOffset(im, oh, ow);
          for (int ch = 0; ch < c; ch++) {
            double best = Double.NEGATIVE_INFINITY;
            int at = -1;
            for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
              for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
                int xo = l.inOffset(im, ih0 + i, iw0 + j) + ch * l.inC;
                if (at < 0 || x[xo] > best || (x[xo] != x[xo] && best == best)) {
                  best = x[xo];
                  at = xo;
                }
              }
            }
            dx[at] += dy[yo + ch * l.outC];
          }
        }
      }
    }
  }

  /** dx of images [n0, n1): each output's gradient spread evenly over its window's valid elements. */
  private static void avgPoolGrad(Layout l, double[] dy, double[] dx, int n0, int n1) {
    ConvGeometry g = l.g;
    int c = g.inC();
    int image = g.inH() * g.inW() * c;
    java.util.Arrays.fill(dx, n0 * image, n1 * image, (double) 0);
    for (int im = n0; im < n1; im++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        int ih0 = oh * g.strideH() - g.padTop();
        int i0 = Math.max(0, -ih0);
        int i1 = Math.min(g.kh(), g.inH() - ih0);
        for (int ow = 0; ow < g.outW(); ow++) {
          int iw0 = ow * g.strideW() - g.padLeft();
          int j0 = Math.max(0, -iw0);
          int j1 = Math.min(g.kw(), g.inW() - iw0);
          int yo = l.outOffset(im, oh, ow);
          double inv = (double) (1.0 / ((i1 - i0) * (j1 - j0)));
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              int xo = l.inOffset(im, ih0 + i, iw0 + j);
              for (int ch = 0; ch < c; ch++) {
                dx[xo + ch * l.inC] += dy[yo + ch * l.outC] * inv;
              }
            }
          }
        }
      }
    }
  }

  private static void biasAdd(double[] v, double[] b, double[] out, int outer, int channels, int inner, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
      int ch = r % channels;
      int base = r * inner;
      if (inner == 1) {
        out[r] = v[r] + b[ch];
        continue;
      }
      double bias = b[ch];
      for (int p = 0; p < inner; p++) {
        out[base + p] = v[base + p] + bias;
      }
    }
  }
}
