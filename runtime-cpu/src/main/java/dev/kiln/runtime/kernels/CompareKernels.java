package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;

/**
 * Comparisons (Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual) and LogicalAnd/LogicalOr,
 * with NumPy broadcasting and BOOL outputs. Greater and GreaterEqual run as Less and LessEqual with
 * the operands swapped, which is exact (also for NaN).
 */
public final class CompareKernels {
  private CompareKernels() {}

  public enum Op { LT, LE, EQ, NE, AND, OR }

  /**
   * @param op the loop to run
   * @param swap whether to swap the operands (Greater, GreaterEqual)
   */
  static KernelFactory factory(Op op, boolean swap) {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      boolean logical = op == Op.AND || op == Op.OR;
      boolean ok = d == DType.BOOL ? op != Op.LT && op != Op.LE : !logical;
      if (!ok) {
        throw KernelSupport.unsupported(spec, d);
      }
      BroadcastPlan plan = ElementwiseKernel.planFor(spec);
      int kind = ArithmeticKernels.kindOf(plan);
      BroadcastPlan.Rows rows = rows(op, d, kind);
      if (swap) {
        BroadcastPlan.Rows straight = rows(op, d, swapped(kind));
        rows = (a, ao, b, bo, c, co, o, oo, n) -> straight.run(b, bo, a, ao, c, co, o, oo, n);
      }
      return new ElementwiseKernel(spec, plan, rows, 1);
    };
  }

  private static int swapped(int kind) {
    return kind == ArithmeticKernels.VS ? ArithmeticKernels.SV
        : kind == ArithmeticKernels.SV ? ArithmeticKernels.VS : kind;
  }

  private static BroadcastPlan.Rows rows(Op op, DType d, int kind) {
    return switch (d) {
      case FLOAT32 -> (a, ao, b, bo, c, co, o, oo, n) -> f32(op, kind, (float[]) a, ao, (float[]) b, bo, (boolean[]) o, oo, n);
      case FLOAT64 -> (a, ao, b, bo, c, co, o, oo, n) -> f64(op, kind, (double[]) a, ao, (double[]) b, bo, (boolean[]) o, oo, n);
      case INT32 -> (a, ao, b, bo, c, co, o, oo, n) -> i32(op, kind, (int[]) a, ao, (int[]) b, bo, (boolean[]) o, oo, n);
      case INT64 -> (a, ao, b, bo, c, co, o, oo, n) -> i64(op, kind, (long[]) a, ao, (long[]) b, bo, (boolean[]) o, oo, n);
      case BOOL -> (a, ao, b, bo, c, co, o, oo, n) -> bool(op, kind, (boolean[]) a, ao, (boolean[]) b, bo, (boolean[]) o, oo, n);
      default -> throw NarrowTypes.notLowered(d);
    };
  }

  public static void f32(Op op, int kind, float[] a, int ao, float[] b, int bo, boolean[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.VS -> {
        float s = b[bo];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < s; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= s; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == s; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != s; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.SV -> {
        float s = a[ao];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = s < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = s <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = s == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = s != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void f64(Op op, int kind, double[] a, int ao, double[] b, int bo, boolean[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.VS -> {
        double s = b[bo];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < s; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= s; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == s; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != s; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.SV -> {
        double s = a[ao];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = s < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = s <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = s == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = s != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void i32(Op op, int kind, int[] a, int ao, int[] b, int bo, boolean[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.VS -> {
        int s = b[bo];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < s; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= s; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == s; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != s; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.SV -> {
        int s = a[ao];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = s < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = s <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = s == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = s != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void i64(Op op, int kind, long[] a, int ao, long[] b, int bo, boolean[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.VS -> {
        long s = b[bo];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] < s; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] <= s; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == s; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != s; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.SV -> {
        long s = a[ao];
        switch (op) {
          case LT -> { for (int i = 0; i < n; i++) o[oo + i] = s < b[bo + i]; }
          case LE -> { for (int i = 0; i < n; i++) o[oo + i] = s <= b[bo + i]; }
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = s == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = s != b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static void bool(Op op, int kind, boolean[] a, int ao, boolean[] b, int bo, boolean[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        switch (op) {
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != b[bo + i]; }
          case AND -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] && b[bo + i]; }
          case OR -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] || b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.VS -> {
        boolean s = b[bo];
        switch (op) {
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] == s; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] != s; }
          case AND -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] && s; }
          case OR -> { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i] || s; }
          default -> throw new AssertionError(op);
        }
      }
      case ArithmeticKernels.SV -> {
        boolean s = a[ao];
        switch (op) {
          case EQ -> { for (int i = 0; i < n; i++) o[oo + i] = s == b[bo + i]; }
          case NE -> { for (int i = 0; i < n; i++) o[oo + i] = s != b[bo + i]; }
          case AND -> { for (int i = 0; i < n; i++) o[oo + i] = s && b[bo + i]; }
          case OR -> { for (int i = 0; i < n; i++) o[oo + i] = s || b[bo + i]; }
          default -> throw new AssertionError(op);
        }
      }
      default -> throw new AssertionError(kind);
    }
  }
}
