package dev.kiln.runtime.kernels;

import dev.kiln.runtime.fused.FusedKernel;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Primitive;

/**
 * The fused rows of the primitives that have no kernel of their own elsewhere in the library
 * (floor, ceil, round half to even, truncated remainder), on float32 and float64: a node of one of
 * these types, fused or not, runs through {@link FusedKernel}. A uniform operand of a non-uniform
 * row is read at stride 0.
 */
public final class PrimitiveLoops {
  private PrimitiveLoops() {}

  /** The row computing body node {@code n}; fails, naming it, for a node no loop here computes. */
  public static FusedKernel.Instr of(Primitive p, Operation n, int[] ins, int out, boolean[] uniform, String where) {
    DType d = n.output(0).dtype();
    if (d != DType.FLOAT32 && d != DType.FLOAT64) {
      throw noLoop(n, where);
    }
    boolean f32 = d == DType.FLOAT32;
    return switch (p) {
      case FLOOR -> unary(f32, ins[0], out, Math::floor);
      case CEIL -> unary(f32, ins[0], out, Math::ceil);
      case ROUND -> unary(f32, ins[0], out, Math::rint);
      case TRUNCATE_MOD -> binary(f32, ins[0], ins[1], out, uniform, (x, y) -> x % y);
      default -> throw noLoop(n, where);
    };
  }

  private static IllegalArgumentException noLoop(Operation n, String where) {
    return new IllegalArgumentException(where + "no fused CPU loop for body node " + n);
  }

  // Math.floor, ceil and rint of a float widened to double are exact floats, as is % of two floats.
  private static FusedKernel.Instr unary(boolean f32, int x, int o, java.util.function.DoubleUnaryOperator f) {
    return f32
        ? (arr, off, n) -> {
          float[] a = (float[]) arr[x];
          float[] r = (float[]) arr[o];
          int ao = off[x];
          int ro = off[o];
          for (int i = 0; i < n; i++) {
            r[ro + i] = (float) f.applyAsDouble(a[ao + i]);
          }
        }
        : (arr, off, n) -> {
          double[] a = (double[]) arr[x];
          double[] r = (double[]) arr[o];
          int ao = off[x];
          int ro = off[o];
          for (int i = 0; i < n; i++) {
            r[ro + i] = f.applyAsDouble(a[ao + i]);
          }
        };
  }

  private static FusedKernel.Instr binary(boolean f32, int x, int y, int o, boolean[] uniform,
      java.util.function.DoubleBinaryOperator f) {
    int sx = uniform[x] && !uniform[o] ? 0 : 1;
    int sy = uniform[y] && !uniform[o] ? 0 : 1;
    return f32
        ? (arr, off, n) -> {
          float[] a = (float[]) arr[x];
          float[] b = (float[]) arr[y];
          float[] r = (float[]) arr[o];
          int ao = off[x];
          int bo = off[y];
          int ro = off[o];
          for (int i = 0; i < n; i++) {
            r[ro + i] = (float) f.applyAsDouble(a[ao + i * sx], b[bo + i * sy]);
          }
        }
        : (arr, off, n) -> {
          double[] a = (double[]) arr[x];
          double[] b = (double[]) arr[y];
          double[] r = (double[]) arr[o];
          int ao = off[x];
          int bo = off[y];
          int ro = off[o];
          for (int i = 0; i < n; i++) {
            r[ro + i] = f.applyAsDouble(a[ao + i * sx], b[bo + i * sy]);
          }
        };
  }
}
