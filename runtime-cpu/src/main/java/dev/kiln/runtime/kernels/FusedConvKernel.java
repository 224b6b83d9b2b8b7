package dev.kiln.runtime.kernels;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.runtime.blas.Blas;

/**
 * The CPU kernel of {@code FusedConv2D}: {@code activation(conv2d(input, filter) + bias)}, or with
 * batch normalization's four inputs instead of the bias, {@code activation(y * a + b)} with the
 * per-channel a and b the BatchNorm kernel computes from them. Float32 without batch normalization
 * runs on oneDNN ({@link DnnlConv}: bias and relu in its pass, another activation after it). On the
 * float32 im2col path the bias and activation are applied to each block's output rows right after
 * the block's product, while those rows are still in the core's cache (one vectorized pass for bias
 * and relu); float64 and the direct loops apply them to the whole output afterwards.
 */
final class FusedConvKernel {
  private FusedConvKernel() {}

  static KernelFactory factory() {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      if (d != DType.FLOAT32 && d != DType.FLOAT64) {
        throw KernelSupport.unsupported(spec, d);
      }
      ConvGeometry g = ConvGeometry.convolution(spec.op().attrs(), KernelSupport.inDims(spec, 0), KernelSupport.inDims(spec, 1));
      UnaryKernels.Op act = Elementwise.activation(spec.op()).map(p -> switch (p) {
        case RELU -> UnaryKernels.Op.RELU;
        case SIGMOID -> UnaryKernels.Op.SIGMOID;
        case TANH -> UnaryKernels.Op.TANH;
        default -> throw new IllegalArgumentException(spec.op().type() + " '" + spec.op().name()
            + "': no convolution epilogue for " + p);
      }).orElse(null);
      boolean hasBias = spec.inputs().size() == 3;
      boolean batchNorm = spec.inputs().size() == 6;
      double eps = spec.op().attrs().getDouble("epsilon");
      int[] slots = spec.inputSlots();
      int s0 = slots[0];
      int s1 = slots[1];
      int sb = hasBias ? slots[2] : -1;
      int so = spec.outputSlots()[0];
      int k = g.outC();
      if (d == DType.FLOAT32 && DepthwiseConv.handles(g)) {
        DepthwiseConv c = new DepthwiseConv(g);
        int rows = g.batch() * g.outH() * g.outW();
        return frame -> {
          float[] y = (float[]) frame[so];
          c.forward((float[]) frame[s0], (float[]) frame[s1], y);
          if (batchNorm) {
            float[][] ab = scaleShift(frame, slots, k, eps);
            affine(y, ab[0], ab[1], act, 0, rows, k);
          } else {
            rows(y, hasBias ? (float[]) frame[sb] : null, act, 0, rows, k);
          }
        };
      }
      if (d == DType.FLOAT32 && !batchNorm) {
        // relu fuses into oneDNN's pass; another activation runs over the whole output afterwards.
        boolean relu = act == UnaryKernels.Op.RELU;
        var dnnl = DnnlConv.create(g, ConvKernels.Kind.FORWARD, hasBias, relu);
        if (dnnl.isPresent()) {
          DnnlPrimitive c = dnnl.get();
          // A constant filter (an imported model's) is reordered into oneDNN's layout once; a run that
          // feeds the constant's node takes the primitive that copies the filter in.
          Object filter = KernelSupport.constantArray(spec, 1).orElse(null);
          DnnlPrimitive packed = filter == null ? null
              : DnnlConv.withConstantFilter(g, hasBias, relu, (float[]) filter).orElse(null);
          int size = g.batch() * g.outH() * g.outW() * k;
          return frame -> {
            float[] y = (float[]) frame[so];
            float[] x = (float[]) frame[s0];
            float[] w = (float[]) frame[s1];
            boolean usePacked = packed != null && w == filter;
            if (hasBias) {
              float[] b = (float[]) frame[sb];
              if (usePacked) {
                packed.run(y, x, b);
              } else {
                c.run(y, x, w, b);
              }
            } else if (usePacked) {
              packed.run(y, x);
            } else {
              c.run(y, x, w);
            }
            if (act != null && !relu) {
              unary(act, y, 0, size);
            }
          };
        }
      }
      if (d == DType.FLOAT32 && Blas.gemmAtAvailable() && batchNorm) {
        ConvKernels.Im2colConv c = new ConvKernels.Im2colConv(g);
        return frame -> {
          float[][] ab = scaleShift(frame, slots, k, eps);
          c.forward((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so],
              (y, r0, r1) -> affine(y, ab[0], ab[1], act, r0, r1, k));
        };
      }
      if (d == DType.FLOAT32 && Blas.gemmAtAvailable()) {
        ConvKernels.Im2colConv c = new ConvKernels.Im2colConv(g);
        return frame -> {
          float[] bias = hasBias ? (float[]) frame[sb] : null;
          c.forward((float[]) frame[s0], (float[]) frame[s1], (float[]) frame[so],
              (y, r0, r1) -> rows(y, bias, act, r0, r1, k));
        };
      }
      ConvKernels.DirectConv c = new ConvKernels.DirectConv(g);
      int planes = g.batch() * k;
      int hw = g.outH() * g.outW();
      return d == DType.FLOAT32
          ? frame -> {
            float[] y = (float[]) frame[so];
            c.run(ConvKernels.Kind.FORWARD, (float[]) frame[s0], (float[]) frame[s1], y);
            float[][] ab = batchNorm ? scaleShift(frame, slots, k, eps) : null;
            float[] bias = hasBias ? (float[]) frame[sb] : null;
            if (g.nchw()) {
              planes(y, ab, bias, act, planes, k, hw);
            } else if (ab != null) {
              affine(y, ab[0], ab[1], act, 0, g.batch() * hw, k);
            } else {
              rows(y, bias, act, 0, g.batch() * hw, k);
            }
          }
          : frame -> {
            double[] y = (double[]) frame[so];
            c.run(ConvKernels.Kind.FORWARD, (double[]) frame[s0], (double[]) frame[s1], y);
            double[] bias = hasBias ? (double[]) frame[sb] : null;
            if (bias != null) {
              for (int p = 0; p < planes * hw; p++) {
                y[p] += bias[g.nchw() ? (p / hw) % k : p % k];
              }
            }
            if (batchNorm) {
              double[] scale = (double[]) frame[slots[2]];
              double[] offset = (double[]) frame[slots[3]];
              double[] mean = (double[]) frame[slots[4]];
              double[] var = (double[]) frame[slots[5]];
              for (int p = 0; p < planes * hw; p++) {
                int ch = g.nchw() ? (p / hw) % k : p % k;
                double a = scale[ch] / Math.sqrt(var[ch] + eps);
                y[p] = y[p] * a + (offset[ch] - mean[ch] * a);
              }
            }
            if (act != null) {
              if (VectorSupport.AVAILABLE && VectorMath.handles(act)) {
                VectorMath.f64(act, y, 0, y, 0, y.length);
              } else {
                UnaryKernels.f64(act, y, 0, y, 0, y.length);
              }
            }
          };
    };
  }

  /** NHWC rows (pixels) [r0, r1) of k channels: y = act(y + bias); bias may be null, act null for none. */
  static void rows(float[] y, float[] bias, UnaryKernels.Op act, int r0, int r1, int k) {
    if (bias != null) {
      boolean relu = act == UnaryKernels.Op.RELU;
      if (VectorSupport.AVAILABLE) {
        BiasVectors.f32(y, bias, r0, r1, k, relu);
      } else {
        for (int r = r0; r < r1; r++) {
          int o = r * k;
          for (int ch = 0; ch < k; ch++) {
            float v = y[o + ch] + bias[ch];
            y[o + ch] = relu ? Math.max(v, 0f) : v;
          }
        }
      }
      if (relu) {
        return;
      }
    }
    if (act != null) {
      unary(act, y, r0 * k, (r1 - r0) * k);
    }
  }

  /**
   * Batch normalization's per-channel {a, b} with y * a + b = (y - mean) / sqrt(variance + eps) *
   * scale + offset (inputs 2..5), computed in double as the BatchNorm kernel does.
   */
  private static float[][] scaleShift(Object[] frame, int[] slots, int k, double eps) {
    float[] scale = (float[]) frame[slots[2]];
    float[] offset = (float[]) frame[slots[3]];
    float[] mean = (float[]) frame[slots[4]];
    float[] var = (float[]) frame[slots[5]];
    float[][] ab = new float[2][k];
    for (int c = 0; c < k; c++) {
      double a = scale[c] / Math.sqrt(var[c] + eps);
      ab[0][c] = (float) a;
      ab[1][c] = (float) (offset[c] - mean[c] * a);
    }
    return ab;
  }

  /** NHWC rows [r0, r1) of k channels: y = act(y * a + b). */
  private static void affine(float[] y, float[] a, float[] b, UnaryKernels.Op act, int r0, int r1, int k) {
    for (int r = r0; r < r1; r++) {
      int o = r * k;
      for (int ch = 0; ch < k; ch++) {
        y[o + ch] = y[o + ch] * a[ch] + b[ch];
      }
    }
    if (act != null) {
      unary(act, y, r0 * k, (r1 - r0) * k);
    }
  }

  /** NCHW planes of hw elements, plane p of channel p % k: y = act(y * a + b) with ab, else act(y + bias). */
  private static void planes(float[] y, float[][] ab, float[] bias, UnaryKernels.Op act, int planes, int k, int hw) {
    if (ab != null) {
      for (int p = 0; p < planes; p++) {
        float a = ab[0][p % k];
        float b = ab[1][p % k];
        for (int e = p * hw; e < (p + 1) * hw; e++) {
          y[e] = y[e] * a + b;
        }
      }
    }
    if (bias != null) {
      for (int p = 0; p < planes; p++) {
        float b = bias[p % k];
        for (int e = p * hw; e < (p + 1) * hw; e++) {
          y[e] += b;
        }
      }
    }
    if (act != null) {
      unary(act, y, 0, planes * hw);
    }
  }

  private static void unary(UnaryKernels.Op act, float[] y, int from, int len) {
    if (VectorSupport.AVAILABLE && VectorMath.handles(act)) {
      VectorMath.f32(act, y, from, y, from, len);
    } else if (ScalarMath.handles(act)) {
      ScalarMath.f32(act, y, from, y, from, len);
    } else {
      UnaryKernels.f32(act, y, from, y, from, len);
    }
  }
}
