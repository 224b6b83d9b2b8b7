package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import java.util.Arrays;

/** The Session's own kernels: variable updates, random sources and fetch copies. */
public final class StateKernels {
  private StateKernels() {}

  /** Assign, AssignAdd or AssignSub of the value in {@code valueSlot} into the variable in {@code varSlot}. */
  public static Kernel assign(String type, DType dtype, int n, int valueSlot, int varSlot) {
    return switch (type) {
      case "Assign" -> f -> System.arraycopy(f[valueSlot], 0, f[varSlot], 0, n);
      case "AssignAdd" -> update(dtype, n, valueSlot, varSlot, 1);
      case "AssignSub" -> update(dtype, n, valueSlot, varSlot, -1);
      default -> throw new IllegalArgumentException("not an assign: " + type);
    };
  }

  private static Kernel update(DType dtype, int n, int vs, int ws, int sign) {
    if (dtype.isNarrow()) {
      return narrowed(update(dtype.computeType(), n, vs, ws, sign), dtype, ws, n);
    }
    return switch (dtype) {
      case FLOAT32 -> sign > 0
          ? f -> { float[] v = (float[]) f[vs], w = (float[]) f[ws]; for (int i = 0; i < n; i++) w[i] += v[i]; }
          : f -> { float[] v = (float[]) f[vs], w = (float[]) f[ws]; for (int i = 0; i < n; i++) w[i] -= v[i]; };
      case FLOAT64 -> sign > 0
          ? f -> { double[] v = (double[]) f[vs], w = (double[]) f[ws]; for (int i = 0; i < n; i++) w[i] += v[i]; }
          : f -> { double[] v = (double[]) f[vs], w = (double[]) f[ws]; for (int i = 0; i < n; i++) w[i] -= v[i]; };
      case INT32 -> sign > 0
          ? f -> { int[] v = (int[]) f[vs], w = (int[]) f[ws]; for (int i = 0; i < n; i++) w[i] += v[i]; }
          : f -> { int[] v = (int[]) f[vs], w = (int[]) f[ws]; for (int i = 0; i < n; i++) w[i] -= v[i]; };
      case INT64 -> sign > 0
          ? f -> { long[] v = (long[]) f[vs], w = (long[]) f[ws]; for (int i = 0; i < n; i++) w[i] += v[i]; }
          : f -> { long[] v = (long[]) f[vs], w = (long[]) f[ws]; for (int i = 0; i < n; i++) w[i] -= v[i]; };
      case BOOL -> throw new IllegalArgumentException("cannot add to or subtract from a bool variable");
      default -> throw NarrowTypes.notLowered(dtype);
    };
  }

  /** {@code k}, then the {@code n} values in {@code slot} narrowed to {@code dtype}. */
  private static Kernel narrowed(Kernel k, DType dtype, int slot, int n) {
    return f -> {
      k.run(f);
      dev.kiln.graph.Narrowing.narrowInPlace(dtype, f[slot], 0, n);
    };
  }

  public static Kernel randomNormal(RandomStream rs, DType dtype, int n, int out) {
    if (dtype.isNarrow()) {
      return narrowed(randomNormal(rs, dtype.computeType(), n, out), dtype, out, n);
    }
    long seed = rs.seed();
    return dtype == DType.FLOAT32
        ? f -> {
          float[] o = (float[]) f[out];
          long base = rs.reserve(n);
          for (int i = 0; i < n; i++) o[i] = (float) RandomStream.normal(seed, base + i);
        }
        : f -> {
          double[] o = (double[]) f[out];
          long base = rs.reserve(n);
          for (int i = 0; i < n; i++) o[i] = RandomStream.normal(seed, base + i);
        };
  }

  public static Kernel randomUniform(RandomStream rs, DType dtype, int n, int out) {
    if (dtype.isNarrow()) {
      return narrowed(randomUniform(rs, dtype.computeType(), n, out), dtype, out, n);
    }
    long seed = rs.seed();
    return dtype == DType.FLOAT32
        ? f -> {
          float[] o = (float[]) f[out];
          long base = rs.reserve(n);
          for (int i = 0; i < n; i++) o[i] = (float) RandomStream.uniform(seed, base + i);
        }
        : f -> {
          double[] o = (double[]) f[out];
          long base = rs.reserve(n);
          for (int i = 0; i < n; i++) o[i] = RandomStream.uniform(seed, base + i);
        };
  }

  /** Copies a fetched value out of the frame into a Tensor the caller owns, left in {@code result}. */
  public static Kernel fetch(DType dtype, Shape shape, int n, int slot, int result) {
    return f -> f[result] = HostBuffers.adopt(dtype, shape, copy(f[slot], n));
  }

  public static Object copy(Object array, int n) {
    return switch (array) {
      case float[] a -> Arrays.copyOf(a, n);
      case double[] a -> Arrays.copyOf(a, n);
      case int[] a -> Arrays.copyOf(a, n);
      case long[] a -> Arrays.copyOf(a, n);
      case boolean[] a -> Arrays.copyOf(a, n);
      default -> throw new IllegalStateException("not a storage array: " + array);
    };
  }
}
