package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * Elementwise unary ops. Each (op, dtype) pair has its own tight loop so that C2 can vectorize it;
 * the op switch sits outside the loops.
 */
public final class UnaryKernels {
  private UnaryKernels() {}

  public enum Op {
    NEG(false, 1), SQUARE(false, 1), ABS(false, 1), SIGN(false, 1), RELU(false, 1),
    SQRT(true, 1), RSQRT(true, 1), RECIPROCAL(true, 1),
    // Transcendental functions cost far more per element than an add: split them over cores sooner.
    EXP(true, 16), LOG(true, 16), SIN(true, 16), COS(true, 16), SIGMOID(true, 16), TANH(true, 16),
    LOGICAL_NOT(false, 1);

    private final boolean floatOnly;
    private final int unitCost;

    Op(boolean floatOnly, int unitCost) {
      this.floatOnly = floatOnly;
      this.unitCost = unitCost;
    }
  }

  static KernelFactory factory(Op op) {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      boolean ok = switch (d) {
        case FLOAT32, FLOAT64 -> op != Op.LOGICAL_NOT;
        case INT32, INT64 -> !op.floatOnly && op != Op.LOGICAL_NOT;
        case BOOL -> op == Op.LOGICAL_NOT;
        default -> false;
      };
      if (!ok) {
        throw KernelSupport.unsupported(spec, d);
      }
      BroadcastPlan.Rows rows = switch (d) {
        case FLOAT32 -> (a, ao, b, bo, c, co, o, oo, n) -> f32(op, (float[]) a, ao, (float[]) o, oo, n);
        case FLOAT64 -> (a, ao, b, bo, c, co, o, oo, n) -> f64(op, (double[]) a, ao, (double[]) o, oo, n);
        case INT32 -> (a, ao, b, bo, c, co, o, oo, n) -> i32(op, (int[]) a, ao, (int[]) o, oo, n);
        case INT64 -> (a, ao, b, bo, c, co, o, oo, n) -> i64(op, (long[]) a, ao, (long[]) o, oo, n);
        case BOOL -> (a, ao, b, bo, c, co, o, oo, n) -> not((boolean[]) a, ao, (boolean[]) o, oo, n);
        default -> throw NarrowTypes.notLowered(d);
      };
      return new ElementwiseKernel(spec, ElementwiseKernel.planFor(spec), rows, op.unitCost);
    };
  }

  public static void f32(Op op, float[] x, int xo, float[] y, int yo, int n) {
    switch (op) {
      case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
      case SQUARE -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * x[xo + i]; }
      case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
      case SIGN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.signum(x[xo + i]); }
      case RELU -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(x[xo + i], 0f); }
      case SQRT -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.sqrt(x[xo + i]); }
      case RSQRT -> { for (int i = 0; i < n; i++) y[yo + i] = 1f / (float) Math.sqrt(x[xo + i]); }
      case RECIPROCAL -> { for (int i = 0; i < n; i++) y[yo + i] = 1f / x[xo + i]; }
      case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.exp(x[xo + i]); }
      case LOG -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.log(x[xo + i]); }
      case SIN -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.sin(x[xo + i]); }
      case COS -> { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.cos(x[xo + i]); }
      case SIGMOID -> { for (int i = 0; i < n; i++) y[yo + i] = (float) (1.0 / (1.0 + Math.exp(-x[xo + i]))); }
      case TANH -> { for (int i = 0; i < n; i++) y[yo + i] = tanh(x[xo + i]); }
      case LOGICAL_NOT -> throw new AssertionError(op);
    }
  }

  /**
   * tanh for floats through the Math.exp intrinsic (about twice as fast as Math.tanh here), in double,
   * with a Taylor polynomial near 0 where 1 - 2/(e^2x + 1) cancels. Over [-12, 12] it rounds to the same
   * float as Math.tanh.
   */
  static float tanh(float x) {
    double v = x;
    if (Math.abs(v) < 0.125) {
      double v2 = v * v;
      return (float) (v * (1 + v2 * (-1.0 / 3 + v2 * (2.0 / 15 + v2 * (-17.0 / 315 + v2 * (62.0 / 2835))))));
    }
    return (float) (1 - 2 / (Math.exp(2 * v) + 1));
  }

  public static void f64(Op op, double[] x, int xo, double[] y, int yo, int n) {
    switch (op) {
      case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
      case SQUARE -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * x[xo + i]; }
      case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
      case SIGN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.signum(x[xo + i]); }
      case RELU -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(x[xo + i], 0.0); }
      case SQRT -> { for (int i = 0; i < n; i++) y[yo + i] = Math.sqrt(x[xo + i]); }
      case RSQRT -> { for (int i = 0; i < n; i++) y[yo + i] = 1.0 / Math.sqrt(x[xo + i]); }
      case RECIPROCAL -> { for (int i = 0; i < n; i++) y[yo + i] = 1.0 / x[xo + i]; }
      case EXP -> { for (int i = 0; i < n; i++) y[yo + i] = Math.exp(x[xo + i]); }
      case LOG -> { for (int i = 0; i < n; i++) y[yo + i] = Math.log(x[xo + i]); }
      case SIN -> { for (int i = 0; i < n; i++) y[yo + i] = Math.sin(x[xo + i]); }
      case COS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.cos(x[xo + i]); }
      case SIGMOID -> { for (int i = 0; i < n; i++) y[yo + i] = 1.0 / (1.0 + Math.exp(-x[xo + i])); }
      case TANH -> { for (int i = 0; i < n; i++) y[yo + i] = Math.tanh(x[xo + i]); }
      case LOGICAL_NOT -> throw new AssertionError(op);
    }
  }

  public static void i32(Op op, int[] x, int xo, int[] y, int yo, int n) {
    switch (op) {
      case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
      case SQUARE -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * x[xo + i]; }
      case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
      case SIGN -> { for (int i = 0; i < n; i++) y[yo + i] = Integer.signum(x[xo + i]); }
      case RELU -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(x[xo + i], 0); }
      default -> throw new AssertionError(op);
    }
  }

  public static void i64(Op op, long[] x, int xo, long[] y, int yo, int n) {
    switch (op) {
      case NEG -> { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
      case SQUARE -> { for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * x[xo + i]; }
      case ABS -> { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
      case SIGN -> { for (int i = 0; i < n; i++) y[yo + i] = Long.signum(x[xo + i]); }
      case RELU -> { for (int i = 0; i < n; i++) y[yo + i] = Math.max(x[xo + i], 0L); }
      default -> throw new AssertionError(op);
    }
  }

  public static void not(boolean[] x, int xo, boolean[] y, int yo, int n) {
    for (int i = 0; i < n; i++) {
      y[yo + i] = !x[xo + i];
    }
  }
}
