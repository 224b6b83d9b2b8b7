package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;

/**
 * Kernels of the tensor-array ops: a write copies the array (unless the plan gave it the array's own
 * buffer, the array being dead there) and the one element; a read copies one element.
 */
final class TensorArrayKernels {
  private TensorArrayKernels() {}

  static KernelFactory write() {
    return spec -> {
      ElementUpdate u = ElementUpdate.of(spec);
      return f -> {
        int base = u.index(f); // checked before anything is written
        System.arraycopy(f[u.val], 0, u.arrayOut(f), base, u.elem);
      };
    };
  }

  static KernelFactory read() {
    return spec -> {
      int size = spec.inputs().get(0).shape().dim(0);
      int elem = spec.outputs().get(0).shape().elementCount();
      int ta = spec.inputSlots()[0];
      int idx = spec.inputSlots()[1];
      int out = spec.outputSlots()[0];
      boolean wide = spec.inputs().get(1).dtype() == DType.INT64;
      Operation op = spec.op();
      return f -> System.arraycopy(f[ta], index(f[idx], wide, size, op) * elem, f[out], 0, elem);
    };
  }

  static KernelFactory accumulate() {
    return spec -> {
      ElementUpdate u = ElementUpdate.of(spec);
      boolean f32 = spec.outputs().get(0).dtype() == DType.FLOAT32;
      return f -> {
        int base = u.index(f);
        Object o = u.arrayOut(f);
        if (f32) {
          float[] d = (float[]) o;
          float[] v = (float[]) f[u.val];
          for (int i = 0; i < u.elem; i++) {
            d[base + i] += v[i];
          }
        } else {
          double[] d = (double[]) o;
          double[] v = (double[]) f[u.val];
          for (int i = 0; i < u.elem; i++) {
            d[base + i] += v[i];
          }
        }
      };
    };
  }

  /**
   * The slots and sizes of an op that changes one element of a tensor array (inputs array, index,
   * value; output the new array).
   */
  private record ElementUpdate(int total, int size, int elem, int ta, int idx, int val, int out, boolean wide,
      Operation op) {
    static ElementUpdate of(KernelSpec spec) {
      return new ElementUpdate(spec.outputs().get(0).shape().elementCount(), spec.outputs().get(0).shape().dim(0),
          spec.inputs().get(2).shape().elementCount(), spec.inputSlots()[0], spec.inputSlots()[1],
          spec.inputSlots()[2], spec.outputSlots()[0], spec.inputs().get(1).dtype() == DType.INT64, spec.op());
    }

    /** The first element of the changed one. */
    int index(Object[] f) {
      return TensorArrayKernels.index(f[idx], wide, size, op) * elem;
    }

    /** The output array, holding the input array's elements (copied unless the plan gave it the input's buffer). */
    Object arrayOut(Object[] f) {
      Object o = f[out];
      if (o != f[ta]) {
        System.arraycopy(f[ta], 0, o, 0, total);
      }
      return o;
    }
  }

  static KernelFactory stackRead() {
    return spec -> {
      int elem = spec.outputs().get(0).shape().elementCount();
      int stack = spec.inputSlots()[0];
      int idx = spec.inputSlots()[1];
      int out = spec.outputSlots()[0];
      boolean wide = spec.inputs().get(1).dtype() == DType.INT64;
      Operation op = spec.op();
      return f -> ((dev.kiln.runtime.exec.StackBuffer) f[stack]).read(
          wide ? ((long[]) f[idx])[0] : ((int[]) f[idx])[0], f[out], elem, op);
    };
  }

  private static int index(Object array, boolean wide, int size, Operation op) {
    long i = wide ? ((long[]) array)[0] : ((int[]) array)[0];
    if (i < 0 || i >= size) {
      throw new IllegalArgumentException(op + ": index " + i + " is out of range for a tensor array of size " + size);
    }
    return (int) i;
  }
}
