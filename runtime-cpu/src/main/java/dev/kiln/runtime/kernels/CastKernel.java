package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * Cast between any two dtypes with Java's conversions: floats to integers truncate toward zero and
 * saturate (NaN gives 0), wide integers to narrow ones wrap, BOOL becomes 0/1 and numbers become
 * {@code x != 0}.
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
    switch (from) {
      case FLOAT32 -> fromF32((float[]) x, xo, to, y, yo, n);
      case FLOAT64 -> fromF64((double[]) x, xo, to, y, yo, n);
      case INT32 -> fromI32((int[]) x, xo, to, y, yo, n);
      case INT64 -> fromI64((long[]) x, xo, to, y, yo, n);
      case BOOL -> fromBool((boolean[]) x, xo, to, y, yo, n);
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
