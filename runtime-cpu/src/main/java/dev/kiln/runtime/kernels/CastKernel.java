package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.Narrowing;

/**
 * Cast between any two dtypes with Java's conversions: floats to integers truncate toward zero and
 * saturate (NaN gives 0), wide integers to narrow ones wrap, BOOL becomes 0/1 and numbers become
 * {@code x != 0}. Into float16 and bfloat16 a value is rounded once, to nearest with ties to even
 * (a double directly, not through float); into int8, uint8 and int16 a float is truncated toward zero
 * to a long (saturating) and every integer wraps (two's complement). A narrow value is read exactly
 * from its compute type's array.
 */
public final class CastKernel {
  private CastKernel() {}

  static KernelFactory factory() {
    return spec -> {
      DType from = KernelSupport.inDType(spec, 0);
      DType to = KernelSupport.outDType(spec, 0);
      BroadcastPlan.Rows rows = (x, xo, b, bo, c, co, y, yo, n) -> cast(from, x, xo, to, y, yo, n);
      return new ElementwiseKernel(spec, ElementwiseKernel.planFor(spec), rows, 1);
    };
  }

  public static void cast(DType from, Object x, int xo, DType to, Object y, int yo, int n) {
    if (from == to) {
      System.arraycopy(x, xo, y, yo, n);
      return;
    }
    if (to.isNarrow()) {
      toNarrow(x, xo, to, y, yo, n);
      return;
    }
    if (from.isNarrow()) {
      cast(from.computeType(), x, xo, to, y, yo, n);
      return;
    }
    switch (from) {
      case FLOAT32 -> fromF32((float[]) x, xo, to, y, yo, n);
      case FLOAT64 -> fromF64((double[]) x, xo, to, y, yo, n);
      case INT32 -> fromI32((int[]) x, xo, to, y, yo, n);
      case INT64 -> fromI64((long[]) x, xo, to, y, yo, n);
      case BOOL -> fromBool((boolean[]) x, xo, to, y, yo, n);
      default -> throw NarrowTypes.notLowered(from);
    }
  }

  /** Into a narrow dtype, from any storage array. */
  private static void toNarrow(Object x, int xo, DType to, Object y, int yo, int n) {
    if (to.isFloating()) {
      float[] o = (float[]) y;
      boolean half = to == DType.FLOAT16;
      switch (x) {
        case float[] a -> {
          for (int i = 0; i < n; i++) {
            o[yo + i] = half ? Narrowing.toFloat16(a[xo + i]) : Narrowing.toBfloat16(a[xo + i]);
          }
        }
        case double[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.toFloat(to, a[xo + i]); }
        case int[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.toFloat(to, a[xo + i]); }
        case long[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.toFloat(to, (double) a[xo + i]); }
        case boolean[] a -> { for (int i = 0; i < n; i++) o[yo + i] = a[xo + i] ? 1f : 0f; }
        default -> throw new IllegalArgumentException("not a storage array: " + x.getClass().getName());
      }
      return;
    }
    int[] o = (int[]) y;
    switch (x) {
      case float[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.wrap(to, (long) a[xo + i]); }
      case double[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.wrap(to, (long) a[xo + i]); }
      case int[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.wrap(to, a[xo + i]); }
      case long[] a -> { for (int i = 0; i < n; i++) o[yo + i] = Narrowing.wrap(to, a[xo + i]); }
      case boolean[] a -> { for (int i = 0; i < n; i++) o[yo + i] = a[xo + i] ? 1 : 0; }
      default -> throw new IllegalArgumentException("not a storage array: " + x.getClass().getName());
    }
  }

  private static void fromF32(float[] x, int xo, DType to, Object y, int yo, int n) {
    switch (to) {
      case FLOAT64 -> { double[] o = (double[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i]; }
      case INT32 -> { int[] o = (int[]) y; for (int i = 0; i < n; i++) o[yo + i] = (int) x[xo + i]; }
      case INT64 -> { long[] o = (long[]) y; for (int i = 0; i < n; i++) o[yo + i] = (long) x[xo + i]; }
      case BOOL -> { boolean[] o = (boolean[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] != 0; }
      case FLOAT32 -> throw new AssertionError();
    }
  }

  private static void fromF64(double[] x, int xo, DType to, Object y, int yo, int n) {
    switch (to) {
      case FLOAT32 -> { float[] o = (float[]) y; for (int i = 0; i < n; i++) o[yo + i] = (float) x[xo + i]; }
      case INT32 -> { int[] o = (int[]) y; for (int i = 0; i < n; i++) o[yo + i] = (int) x[xo + i]; }
      case INT64 -> { long[] o = (long[]) y; for (int i = 0; i < n; i++) o[yo + i] = (long) x[xo + i]; }
      case BOOL -> { boolean[] o = (boolean[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] != 0; }
      case FLOAT64 -> throw new AssertionError();
    }
  }

  private static void fromI32(int[] x, int xo, DType to, Object y, int yo, int n) {
    switch (to) {
      case FLOAT32 -> { float[] o = (float[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i]; }
      case FLOAT64 -> { double[] o = (double[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i]; }
      case INT64 -> { long[] o = (long[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i]; }
      case BOOL -> { boolean[] o = (boolean[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] != 0; }
      case INT32 -> throw new AssertionError();
    }
  }

  private static void fromI64(long[] x, int xo, DType to, Object y, int yo, int n) {
    switch (to) {
      case FLOAT32 -> { float[] o = (float[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i]; }
      case FLOAT64 -> { double[] o = (double[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i]; }
      case INT32 -> { int[] o = (int[]) y; for (int i = 0; i < n; i++) o[yo + i] = (int) x[xo + i]; }
      case BOOL -> { boolean[] o = (boolean[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] != 0; }
      case INT64 -> throw new AssertionError();
    }
  }

  private static void fromBool(boolean[] x, int xo, DType to, Object y, int yo, int n) {
    switch (to) {
      case FLOAT32 -> { float[] o = (float[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] ? 1f : 0f; }
      case FLOAT64 -> { double[] o = (double[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] ? 1.0 : 0.0; }
      case INT32 -> { int[] o = (int[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] ? 1 : 0; }
      case INT64 -> { long[] o = (long[]) y; for (int i = 0; i < n; i++) o[yo + i] = x[xo + i] ? 1L : 0L; }
      case BOOL -> throw new AssertionError();
    }
  }
}
