package dev.kiln.runtime.fused;

import dev.kiln.runtime.kernels.BiasVectors;
import dev.kiln.runtime.kernels.DnnlMatMul;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelFactory;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.KernelSupport;
import dev.kiln.runtime.kernels.MatMulKernels;
import dev.kiln.runtime.kernels.Parallel;
import dev.kiln.runtime.kernels.ScalarMath;
import dev.kiln.runtime.kernels.UnaryKernels;
import dev.kiln.runtime.kernels.VectorMath;
import dev.kiln.runtime.kernels.VectorSupport;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Primitive;

/**
 * The CPU kernel of {@code FusedMatMul}: the MatMul kernel (sgemm/dgemm through OpenBLAS) into the
 * output, then a pass over the product adding the bias and applying the activation (bias and relu in
 * one vectorized loop when the Vector API is available). Rows are split over the cores for large products.
 */
public final class FusedMatMulKernel {
  private FusedMatMulKernel() {}

  enum Activation {
    NONE, RELU, SIGMOID, TANH;

    /** The epilogue applying {@code p} (none when empty). */
    static Activation of(java.util.Optional<Primitive> p) {
      return p.map(a -> switch (a) {
        case RELU -> RELU;
        case SIGMOID -> SIGMOID;
        case TANH -> TANH;
        default -> throw new IllegalArgumentException("no fused-product epilogue for " + a);
      }).orElse(NONE);
    }
  }

  /** Products of at least this many elements split their vectorized bias/relu pass over the cores. */
  private static final long MEMORY_BOUND_SPLIT = 1 << 20;

  public static KernelFactory factory() {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      if (d != DType.FLOAT32 && d != DType.FLOAT64) {
        throw KernelSupport.unsupported(spec, d);
      }
      Activation act = Activation.of(Elementwise.activation(spec.op()));
      Kernel blas = blasKernel(spec, d, act);
      if (d == DType.FLOAT32 && (act == Activation.NONE || act == Activation.RELU)) {
        return DnnlMatMul.create(spec, spec.inputs().size() == 3, act == Activation.RELU, blas).orElse(blas);
      }
      return blas;
    };
  }

  /** The product on BLAS, then the bias and activation in a pass over it. */
  private static Kernel blasKernel(KernelSpec spec, DType d, Activation act) {
    Kernel product = MatMulKernels.blasFactory().create(spec);
    int[] out = KernelSupport.outDims(spec, 0);
    int m = out[0];
    int n = out[1];
    boolean hasBias = spec.inputs().size() == 3;
    int biasSlot = hasBias ? spec.inputSlots()[2] : -1;
    int cSlot = spec.outputSlots()[0];
    if (!hasBias && act == Activation.NONE) {
      return product;
    }
    int cost = act == Activation.SIGMOID || act == Activation.TANH ? 8 : 1;
    // The vectorized bias add (and relu) is memory-bound: below a million elements, handing half of it
    // to another core costs more than the half takes.
    boolean memoryBound = hasBias && cost == 1 && VectorSupport.AVAILABLE;
    int parts = memoryBound && (long) m * n < MEMORY_BOUND_SPLIT ? 1 : Parallel.parts(m, (long) n * cost);
    return frame -> {
      product.run(frame);
      Object bias = hasBias ? frame[biasSlot] : null;
      Object c = frame[cSlot];
      if (parts <= 1) {
        epilogue(d, act, c, bias, 0, m, n);
      } else {
        Parallel.split(m, parts, (lo, hi) -> epilogue(d, act, c, bias, lo, hi, n));
      }
    };
  }

  /** Rows [lo, hi) of the m x n product c: c = act(c + bias). */
  static void epilogue(DType d, Activation act, Object c, Object bias, int lo, int hi, int n) {
    if (bias != null && VectorSupport.AVAILABLE) {
      // One vectorized pass adding the bias (and applying relu); C2 vectorizes neither the fused
      // scalar loop nor well the row-wise bias add. Sigmoid and tanh then run as before.
      boolean relu = act == Activation.RELU;
      if (d == DType.FLOAT32) {
        BiasVectors.f32((float[]) c, (float[]) bias, lo, hi, n, relu);
      } else {
        BiasVectors.f64((double[]) c, (double[]) bias, lo, hi, n, relu);
      }
      if (relu || act == Activation.NONE) {
        return;
      }
      bias = null;
    }
    if (bias != null) {
      if (d == DType.FLOAT32) {
        float[] cc = (float[]) c;
        float[] b = (float[]) bias;
        for (int i = lo; i < hi; i++) {
          int r = i * n;
          for (int j = 0; j < n; j++) cc[r + j] += b[j];
        }
      } else {
        double[] cc = (double[]) c;
        double[] b = (double[]) bias;
        for (int i = lo; i < hi; i++) {
          int r = i * n;
          for (int j = 0; j < n; j++) cc[r + j] += b[j];
        }
      }
    }
    UnaryKernels.Op op = switch (act) {
      case NONE -> null;
      case RELU -> UnaryKernels.Op.RELU;
      case SIGMOID -> UnaryKernels.Op.SIGMOID;
      case TANH -> UnaryKernels.Op.TANH;
    };
    if (op == null) {
      return;
    }
    int from = lo * n;
    int len = (hi - lo) * n;
    boolean vector = VectorSupport.AVAILABLE && VectorMath.handles(op);
    if (d == DType.FLOAT32) {
      float[] cc = (float[]) c;
      if (vector) {
        VectorMath.f32(op, cc, from, cc, from, len);
      } else if (ScalarMath.handles(op)) {
        ScalarMath.f32(op, cc, from, cc, from, len); // VectorMath's bits without the Vector API
      } else {
        UnaryKernels.f32(op, cc, from, cc, from, len);
      }
    } else {
      double[] cc = (double[]) c;
      if (vector) {
        VectorMath.f64(op, cc, from, cc, from, len);
      } else {
        UnaryKernels.f64(op, cc, from, cc, from, len);
      }
    }
  }
}
