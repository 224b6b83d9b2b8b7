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
      int total = spec.outputs().get(0).shape().elementCount();
      int size = spec.outputs().get(0).shape().dim(0);
      int elem = spec.inputs().get(2).shape().elementCount();
      int ta = spec.inputSlots()[0];
      int idx = spec.inputSlots()[1];
      int val = spec.inputSlots()[2];
      int out = spec.outputSlots()[0];
      boolean wide = spec.inputs().get(1).dtype() == DType.INT64;
      Operation op = spec.op();
      return f -> {
        int i = index(f[idx], wide, size, op);
        Object o = f[out];
        if (o != f[ta]) {
          System.arraycopy(f[ta], 0, o, 0, total);
        }
        System.arraycopy(f[val], 0, o, i * elem, elem);
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
      int total = spec.outputs().get(0).shape().elementCount();
      int size = spec.outputs().get(0).shape().dim(0);
      int elem = spec.inputs().get(2).shape().elementCount();
      int ta = spec.inputSlots()[0];
      int idx = spec.inputSlots()[1];
      int val = spec.inputSlots()[2];
      int out = spec.outputSlots()[0];
      boolean wide = spec.inputs().get(1).dtype() == DType.INT64;
      boolean f32 = spec.outputs().get(0).dtype() == DType.FLOAT32;
      Operation op = spec.op();
      return f -> {
        int base = index(f[idx], wide, size, op) * elem;
        Object o = f[out];
        if (o != f[ta]) {
          System.arraycopy(f[ta], 0, o, 0, total);
        }
        if (f32) {
          float[] d = (float[]) o;
          float[] v = (float[]) f[val];
          for (int i = 0; i < elem; i++) {
            d[base + i] += v[i];
          }
        } else {
          double[] d = (double[]) o;
          double[] v = (double[]) f[val];
          for (int i = 0; i < elem; i++) {
            d[base + i] += v[i];
          }
        }
      };
    };
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
