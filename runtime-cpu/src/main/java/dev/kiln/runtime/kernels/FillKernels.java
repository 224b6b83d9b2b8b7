package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import java.util.Arrays;

/** ZerosLike, OnesLike and Fill: outputs of one repeated value, for every dtype. */
final class FillKernels {
  private FillKernels() {}

  /** ZerosLike (one = false) or OnesLike (one = true). */
  static KernelFactory constant(boolean one) {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      int n = KernelSupport.size(spec.outputs().get(0));
      int out = spec.outputSlots()[0];
      return frame -> fill(d, frame[out], n, one ? 1 : 0);
    };
  }

  /** Fill: the scalar input 0 repeated over the output shape. */
  static KernelFactory fill() {
    return spec -> {
      DType d = KernelSupport.outDType(spec, 0);
      int n = KernelSupport.size(spec.outputs().get(0));
      int in = spec.inputSlots()[0];
      int out = spec.outputSlots()[0];
      return frame -> copyScalar(d, frame[in], frame[out], n);
    };
  }

  /** Fills the first n elements of a storage array with v (BOOL: v != 0). */
  static void fill(DType d, Object array, int n, double v) {
    switch (d) {
      case FLOAT32 -> Arrays.fill((float[]) array, 0, n, (float) v);
      case FLOAT64 -> Arrays.fill((double[]) array, 0, n, v);
      case INT32 -> Arrays.fill((int[]) array, 0, n, (int) v);
      case INT64 -> Arrays.fill((long[]) array, 0, n, (long) v);
      case BOOL -> Arrays.fill((boolean[]) array, 0, n, v != 0);
    }
  }

  private static void copyScalar(DType d, Object scalar, Object array, int n) {
    switch (d) {
      case FLOAT32 -> Arrays.fill((float[]) array, 0, n, ((float[]) scalar)[0]);
      case FLOAT64 -> Arrays.fill((double[]) array, 0, n, ((double[]) scalar)[0]);
      case INT32 -> Arrays.fill((int[]) array, 0, n, ((int[]) scalar)[0]);
      case INT64 -> Arrays.fill((long[]) array, 0, n, ((long[]) scalar)[0]);
      case BOOL -> Arrays.fill((boolean[]) array, 0, n, ((boolean[]) scalar)[0]);
    }
  }
}
