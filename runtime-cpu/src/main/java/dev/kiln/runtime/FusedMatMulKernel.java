package dev.kiln.runtime;

import dev.kiln.graph.DType;

/**
 * The CPU kernel of {@code FusedMatMul}: the MatMul kernel (sgemm/dgemm through OpenBLAS) into the
 * output, then a pass over the product adding the bias and applying the activation (bias and relu in
 * one loop). Rows are split over the cores for large products.
 */
final class FusedMatMulKernel {
  private FusedMatMulKernel() {}

  enum Activation { NONE, RELU, SIGMOID, TANH }

  static KernelFactory factory() {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      if (d != DType.FLOAT32 && d != DType.FLOAT64) {
        throw KernelSupport.unsupported(spec, d);
      }
      Kernel product = MatMulKernels.factory().create(spec);
      Activation act = Activation.valueOf((spec.op().attrs().has("activation") ? spec.op().attrs().getString("activation") : "none").toUpperCase(java.util.Locale.ROOT));
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
      int parts = Parallel.parts(m, (long) n * cost);
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
    };
  }

  /** Rows [lo, hi) of the m x n product c: c = act(c + bias). */
  static void epilogue(DType d, Activation act, Object c, Object bias, int lo, int hi, int n) {
    if (bias != null && act == Activation.RELU) {
      biasRelu(d, c, bias, lo, hi, n); // one pass: what the bias add then the relu compute
      return;
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

  /** c = max(c + bias, 0) row by row, in one pass over the rows (Relu's Math.max, NaN kept). */
  private static void biasRelu(DType d, Object c, Object bias, int lo, int hi, int n) {
    if (d == DType.FLOAT32) {
      float[] cc = (float[]) c;
      float[] b = (float[]) bias;
      for (int i = lo; i < hi; i++) {
        int r = i * n;
        for (int j = 0; j < n; j++) cc[r + j] = Math.max(cc[r + j] + b[j], 0f);
      }
    } else {
      double[] cc = (double[]) c;
      double[] b = (double[]) bias;
      for (int i = lo; i < hi; i++) {
        int r = i * n;
        for (int j = 0; j < n; j++) cc[r + j] = Math.max(cc[r + j] + b[j], 0.0);
      }
    }
  }
}
