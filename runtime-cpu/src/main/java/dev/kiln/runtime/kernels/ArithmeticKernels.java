package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * Numeric binary ops with NumPy broadcasting: Add, Sub, Mul, Div, Pow, Maximum, Minimum. Each row of
 * the {@link BroadcastPlan} is vector-vector (VV), vector-scalar (VS) or scalar-vector (SV); each
 * (kind, op, dtype) has its own loop so that C2 vectorizes it. Integer Div truncates toward zero.
 */
public final class ArithmeticKernels {
  private ArithmeticKernels() {}

  public enum Op { ADD, SUB, MUL, DIV, POW, MAX, MIN }

  public static final int VV = 0;
  public static final int VS = 1;
  public static final int SV = 2;

  /** The row kind of a two-operand plan. */
  static int kindOf(BroadcastPlan plan) {
    boolean a = plan.innerStride(0) != 0;
    boolean b = plan.innerStride(1) != 0;
    if (a && b) {
      return VV;
    }
    if (a) {
      return VS;
    }
    if (b) {
      return SV;
    }
    throw new AssertionError("a row of two broadcast scalars");
  }

  static KernelFactory factory(Op op) {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      BroadcastPlan plan = ElementwiseKernel.planFor(spec);
      int kind = kindOf(plan);
      String where = spec.op().type() + " '" + spec.op().name() + "': ";
      BroadcastPlan.Rows rows = switch (d) {
        case FLOAT32 -> (a, ao, b, bo, c, co, o, oo, n) ->
            f32(op, kind, (float[]) a, ao, (float[]) b, bo, (float[]) o, oo, n);
        case FLOAT64 -> (a, ao, b, bo, c, co, o, oo, n) ->
            f64(op, kind, (double[]) a, ao, (double[]) b, bo, (double[]) o, oo, n);
        case INT32 -> (a, ao, b, bo, c, co, o, oo, n) -> {
          try {
            i32(op, kind, (int[]) a, ao, (int[]) b, bo, (int[]) o, oo, n);
          } catch (ArithmeticException e) {
            throw new ArithmeticException(where + (op == Op.DIV ? "integer division by zero" : e.getMessage()));
          }
        };
        case INT64 -> (a, ao, b, bo, c, co, o, oo, n) -> {
          try {
            i64(op, kind, (long[]) a, ao, (long[]) b, bo, (long[]) o, oo, n);
          } catch (ArithmeticException e) {
            throw new ArithmeticException(where + (op == Op.DIV ? "integer division by zero" : e.getMessage()));
          }
        };
        case BOOL -> throw KernelSupport.unsupported(spec, d);
        default -> throw NarrowTypes.notLowered(d);
      };
      return new ElementwiseKernel(spec, plan, rows, op == Op.POW ? 16 : 1);
    };
  }

  /** Integer power by squaring; a negative exponent is an error except for bases 1 and -1. */
  static long ipow(long base, long exp) {
    if (exp < 0) {
      if (base == 1 || base == -1) {
        return (exp & 1) == 0 ? 1 : base;
      }
      throw new ArithmeticException("integers cannot be raised to a negative power, got exponent " + exp);
    }
    long result = 1;
    while (exp != 0) {
      if ((exp & 1) != 0) {
        result *= base;
      }
      base *= base;
      exp >>= 1;
    }
    return result;
  }

  /**
   * Rows from this length use VectorArithmetic's loops (bit-identical): Java's Math.max/min on floats
   * (NaN, -0) stay scalar, about 2 ns per element, several times the vector loop's cost.
   * Shorter rows stay scalar, so rows of a few floats allocate nothing before C2 compiles them.
   */
  private static final int VECTOR_FROM = 64;
  private static final boolean VECTOR = VectorSupport.AVAILABLE;

  public static void f32(Op op, int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    if (VECTOR && n >= VECTOR_FROM && op != Op.POW) {
      VectorArithmetic.f32(op, kind, a, ao, b, bo, o, oo, n);
      return;
    }
    switch (kind) {
      case VV -> {
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(a[ao + i], b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], b[bo + i]); }
        }
      }
      case VS -> {
        float s = b[bo];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + s; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - s; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * s; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / s; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(a[ao + i], s); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], s); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], s); }
        }
      }
      case SV -> {
        float s = a[ao];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = s + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = s - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = s * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = s / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(s, b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(s, b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(s, b[bo + i]); }
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void f64(Op op, int kind, double[] a, int ao, double[] b, int bo, double[] o, int oo, int n) {
    switch (kind) {
      case VV -> {
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i], b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], b[bo + i]); }
        }
      }
      case VS -> {
        double s = b[bo];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + s; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - s; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * s; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / s; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i], s); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], s); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], s); }
        }
      }
      case SV -> {
        double s = a[ao];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = s + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = s - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = s * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = s / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(s, b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(s, b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(s, b[bo + i]); }
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void i32(Op op, int kind, int[] a, int ao, int[] b, int bo, int[] o, int oo, int n) {
    switch (kind) {
      case VV -> {
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (int) ipow(a[ao + i], b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], b[bo + i]); }
        }
      }
      case VS -> {
        int s = b[bo];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + s; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - s; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * s; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / s; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (int) ipow(a[ao + i], s); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], s); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], s); }
        }
      }
      case SV -> {
        int s = a[ao];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = s + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = s - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = s * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = s / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = (int) ipow(s, b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(s, b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(s, b[bo + i]); }
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void i64(Op op, int kind, long[] a, int ao, long[] b, int bo, long[] o, int oo, int n) {
    switch (kind) {
      case VV -> {
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = ipow(a[ao + i], b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], b[bo + i]); }
        }
      }
      case VS -> {
        long s = b[bo];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] + s; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] - s; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] * s; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] / s; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = ipow(a[ao + i], s); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(a[ao + i], s); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(a[ao + i], s); }
        }
      }
      case SV -> {
        long s = a[ao];
        switch (op) {
          case ADD -> { for (int i = 0; i < n; i++) o[oo + i] = s + b[bo + i]; }
          case SUB -> { for (int i = 0; i < n; i++) o[oo + i] = s - b[bo + i]; }
          case MUL -> { for (int i = 0; i < n; i++) o[oo + i] = s * b[bo + i]; }
          case DIV -> { for (int i = 0; i < n; i++) o[oo + i] = s / b[bo + i]; }
          case POW -> { for (int i = 0; i < n; i++) o[oo + i] = ipow(s, b[bo + i]); }
          case MAX -> { for (int i = 0; i < n; i++) o[oo + i] = Math.max(s, b[bo + i]); }
          case MIN -> { for (int i = 0; i < n; i++) o[oo + i] = Math.min(s, b[bo + i]); }
        }
      }
      default -> throw new AssertionError(kind);
    }
  }
}
