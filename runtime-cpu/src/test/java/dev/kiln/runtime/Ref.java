package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.function.DoubleBinaryOperator;
import java.util.function.IntFunction;

/**
 * Independent reference computations for kernel tests: plain loops over multi-indices, in double
 * precision, with nothing shared with the kernels' iteration plans.
 */
final class Ref {
  private Ref() {}

  static int size(int... dims) {
    int n = 1;
    for (int d : dims) {
      n *= d;
    }
    return n;
  }

  /** The multi-index of flat position {@code flat} in row-major {@code dims}. */
  static int[] unravel(int flat, int[] dims) {
    int[] idx = new int[dims.length];
    for (int d = dims.length - 1; d >= 0; d--) {
      idx[d] = flat % dims[d];
      flat /= dims[d];
    }
    return idx;
  }

  static int ravel(int[] idx, int[] dims) {
    int f = 0;
    for (int d = 0; d < dims.length; d++) {
      f = f * dims[d] + idx[d];
    }
    return f;
  }

  /** NumPy broadcasting by hand: where output index {@code outIdx} reads an operand of {@code dims}. */
  static int broadcastSource(int[] outIdx, int[] dims) {
    int off = outIdx.length - dims.length;
    int[] idx = new int[dims.length];
    for (int d = 0; d < dims.length; d++) {
      idx[d] = dims[d] == 1 ? 0 : outIdx[d + off];
    }
    return ravel(idx, dims);
  }

  static int[] broadcastDims(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int da = i < r - a.length ? 1 : a[i - (r - a.length)];
      int db = i < r - b.length ? 1 : b[i - (r - b.length)];
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /** A binary op of doubles over two broadcast operands, result as a tensor of dtype {@code out}. */
  static Tensor binary(Tensor a, Tensor b, DType out, DoubleBinaryOperator f) {
    int[] da = a.shape().dims();
    int[] db = b.shape().dims();
    int[] dims = broadcastDims(da, db);
    double[] r = new double[size(dims)];
    for (int i = 0; i < r.length; i++) {
      int[] idx = unravel(i, dims);
      r[i] = f.applyAsDouble(a.getDouble(broadcastSource(idx, da)), b.getDouble(broadcastSource(idx, db)));
    }
    return tensor(out, r, dims);
  }

  /** A tensor of dtype d from double values (BOOL: != 0), converting like Java casts. */
  static Tensor tensor(DType d, double[] v, int... dims) {
    Object a = HostBuffers.allocate(d, v.length);
    for (int i = 0; i < v.length; i++) {
      switch (d) {
        case FLOAT32 -> ((float[]) a)[i] = (float) v[i];
        case FLOAT64 -> ((double[]) a)[i] = v[i];
        case INT32 -> ((int[]) a)[i] = (int) v[i];
        case INT64 -> ((long[]) a)[i] = (long) v[i];
        case BOOL -> ((boolean[]) a)[i] = v[i] != 0;
        case FLOAT16, BFLOAT16 -> ((float[]) a)[i] = dev.kiln.graph.Narrowing.toFloat(d, v[i]);
        case INT8, UINT8, INT16 -> ((int[]) a)[i] = dev.kiln.graph.Narrowing.wrap(d, (long) v[i]);
      }
    }
    return HostBuffers.adopt(d, Shape.of(dims), a);
  }

  static Tensor tensor(DType d, int[] dims, IntFunction<Double> value) {
    double[] v = new double[size(dims)];
    for (int i = 0; i < v.length; i++) {
      v[i] = value.apply(i);
    }
    return tensor(d, v, dims);
  }

  /** Equal type and values within a relative tolerance (exactly for integers and BOOL; NaN == NaN). */
  static void assertClose(Tensor expected, Tensor actual, double tol) {
    assertEquals(expected.type(), actual.type(), "type");
    for (int i = 0; i < expected.size(); i++) {
      double e = expected.getDouble(i);
      double a = actual.getDouble(i);
      if (Double.isNaN(e) && Double.isNaN(a) || e == a) {
        continue;
      }
      if (!expected.dtype().isFloating() || Math.abs(e - a) > tol * Math.max(1, Math.abs(e))) {
        fail("element " + i + " of " + expected.type() + ": expected " + e + " but was " + a);
      }
    }
  }
}
