package dev.kiln.runtime.fused;

import dev.kiln.runtime.kernels.ArithmeticKernels;
import dev.kiln.runtime.kernels.CastKernel;
import dev.kiln.runtime.kernels.CompareKernels;
import dev.kiln.runtime.kernels.PrimitiveLoops;
import dev.kiln.runtime.kernels.ScalarArithmetic;
import dev.kiln.runtime.kernels.ScalarMath;
import dev.kiln.runtime.kernels.UnaryKernels;
import dev.kiln.runtime.kernels.VectorArithmetic;
import dev.kiln.runtime.kernels.VectorMath;
import dev.kiln.runtime.kernels.VectorSupport;
import dev.kiln.runtime.kernels.WideVectorMath;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Primitive;
import java.util.Arrays;

/**
 * The row operations a {@link FusedKernel} program is made of, one per body node, chosen by the
 * node's {@link Primitive}: the library's own
 * elementwise loops (UnaryKernels, ArithmeticKernels, CompareKernels, CastKernel) applied to value
 * locations, with a uniform (1-element) operand passed as the scalar side of a VS/SV loop, and the
 * Vector API for float arithmetic and transcendentals (exp, sigmoid, tanh, log, sin, cos, pow) when
 * available and the body has a vector's worth of elements; otherwise float arithmetic, exp, sigmoid and tanh are loops C2 vectorizes itself
 * ({@link ScalarArithmetic}, {@link ScalarMath}: the same bits). Reductions that end a body are not
 * instructions: FusedKernel folds them.
 */
final class FusedInstructions {
  private FusedInstructions() {}

  /** The instruction computing body node {@code n} into value {@code out} from values {@code ins}. */
  static FusedKernel.Instr of(Operation n, int[] ins, int out, boolean[] uniform, boolean vector, String where) {
    DType d = n.input(0).dtype();
    Primitive p = Elementwise.primitive(n).orElseThrow(
        () -> new IllegalArgumentException(where + "no fused CPU loop for body node " + n));
    return switch (p) {
      case NEG -> unary(UnaryKernels.Op.NEG, d, ins[0], out, vector);
      case SQUARE -> unary(UnaryKernels.Op.SQUARE, d, ins[0], out, vector);
      case ABS -> unary(UnaryKernels.Op.ABS, d, ins[0], out, vector);
      case SIGN -> unary(UnaryKernels.Op.SIGN, d, ins[0], out, vector);
      case RELU -> unary(UnaryKernels.Op.RELU, d, ins[0], out, vector);
      case SQRT -> unary(UnaryKernels.Op.SQRT, d, ins[0], out, vector);
      case RSQRT -> unary(UnaryKernels.Op.RSQRT, d, ins[0], out, vector);
      case RECIPROCAL -> unary(UnaryKernels.Op.RECIPROCAL, d, ins[0], out, vector);
      case EXP -> unary(UnaryKernels.Op.EXP, d, ins[0], out, vector);
      case LOG -> unary(UnaryKernels.Op.LOG, d, ins[0], out, vector);
      case SIN -> unary(UnaryKernels.Op.SIN, d, ins[0], out, vector);
      case COS -> unary(UnaryKernels.Op.COS, d, ins[0], out, vector);
      case SIGMOID -> unary(UnaryKernels.Op.SIGMOID, d, ins[0], out, vector);
      case TANH -> unary(UnaryKernels.Op.TANH, d, ins[0], out, vector);
      case LOGICAL_NOT -> unary(UnaryKernels.Op.LOGICAL_NOT, d, ins[0], out, vector);
      case ZEROS_LIKE -> fill(n.output(0).dtype(), out, 0);
      case ONES_LIKE -> fill(n.output(0).dtype(), out, 1);
      case CAST -> {
        DType to = n.output(0).dtype();
        int x = ins[0];
        yield (arr, off, len) -> CastKernel.cast(d, arr[x], off[x], to, arr[out], off[out], len);
      }
      case ADD -> arithmetic(ArithmeticKernels.Op.ADD, d, ins[0], ins[1], out, uniform, vector);
      case SUB -> arithmetic(ArithmeticKernels.Op.SUB, d, ins[0], ins[1], out, uniform, vector);
      case MUL -> arithmetic(ArithmeticKernels.Op.MUL, d, ins[0], ins[1], out, uniform, vector);
      case DIV -> arithmetic(ArithmeticKernels.Op.DIV, d, ins[0], ins[1], out, uniform, vector);
      case POW -> arithmetic(ArithmeticKernels.Op.POW, d, ins[0], ins[1], out, uniform, vector);
      case MAXIMUM -> arithmetic(ArithmeticKernels.Op.MAX, d, ins[0], ins[1], out, uniform, vector);
      case MINIMUM -> arithmetic(ArithmeticKernels.Op.MIN, d, ins[0], ins[1], out, uniform, vector);
      case LESS -> compare(CompareKernels.Op.LT, d, ins[0], ins[1], out, uniform, vector);
      case LESS_EQUAL -> compare(CompareKernels.Op.LE, d, ins[0], ins[1], out, uniform, vector);
      case GREATER -> compare(CompareKernels.Op.LT, d, ins[1], ins[0], out, uniform, vector);
      case GREATER_EQUAL -> compare(CompareKernels.Op.LE, d, ins[1], ins[0], out, uniform, vector);
      case EQUAL -> compare(CompareKernels.Op.EQ, d, ins[0], ins[1], out, uniform, vector);
      case NOT_EQUAL -> compare(CompareKernels.Op.NE, d, ins[0], ins[1], out, uniform, vector);
      case LOGICAL_AND -> compare(CompareKernels.Op.AND, d, ins[0], ins[1], out, uniform, vector);
      case LOGICAL_OR -> compare(CompareKernels.Op.OR, d, ins[0], ins[1], out, uniform, vector);
      case SELECT -> select(n.output(0).dtype(), ins, out, uniform, vector);
      case ADD_N -> addN(d, ins, out, uniform, vector);
      case FLOOR, CEIL, ROUND, TRUNCATE_MOD -> PrimitiveLoops.of(p, n, ins, out, uniform, where);
    };
  }

  /**
   * One row computing {@code second}, whose input {@code mid} is {@code first}'s value and read by it
   * alone, with {@code first} computed inside (the row of {@code first} is then skipped); null where
   * the pair has no such loop. Float rows (-a)*b, a*b +- c and exp(a)*c (c uniform), common in elementwise chains; without
   * the Vector API the same rows as plain loops (values at offset 0, see FusedKernel.hasPlainLoopRows).
   */
  static FusedKernel.Instr pair(Operation first, int[] firstIns, Operation second, int[] secondIns, int mid, int out,
      boolean[] uniform, boolean vector) {
    if (first.output(0).dtype() != DType.FLOAT32
        || second.output(0).dtype() != DType.FLOAT32 || secondIns.length != 2 || secondIns[0] != mid
        || secondIns[1] == mid) {
      return null;
    }
    int c = secondIns[1];
    Primitive p1 = Elementwise.primitive(first).orElse(null);
    Primitive p2 = Elementwise.primitive(second).orElse(null);
    if (p1 == Primitive.NEG && p2 == Primitive.MUL && !uniform[firstIns[0]] && !uniform[c]) {
      int a = firstIns[0];
      if (!vector) {
        return (arr, off, n) -> {
          float[] x = (float[]) arr[a];
          float[] y = (float[]) arr[c];
          float[] o = (float[]) arr[out];
          if ((off[a] | off[c] | off[out]) == 0) {
            ScalarArithmetic.negMul(x, y, o, n);
          } else {
            for (int i = 0; i < n; i++) o[off[out] + i] = -x[off[a] + i] * y[off[c] + i];
          }
        };
      }
      return (arr, off, n) -> VectorArithmetic.negMul((float[]) arr[a], off[a], (float[]) arr[c], off[c],
          (float[]) arr[out], off[out], n);
    }
    if (p1 == Primitive.EXP && p2 == Primitive.MUL && uniform[c] && !uniform[firstIns[0]]) {
      int a = firstIns[0];
      if (!vector) {
        return (arr, off, n) -> ScalarMath.expScaled((float[]) arr[a], off[a], ((float[]) arr[c])[off[c]],
            (float[]) arr[out], off[out], n);
      }
      return (arr, off, n) -> VectorMath.expScaledF32((float[]) arr[a], off[a], ((float[]) arr[c])[off[c]],
          (float[]) arr[out], off[out], n);
    }
    boolean add = p2 == Primitive.ADD;
    if (p1 == Primitive.MUL && (add || p2 == Primitive.SUB) && uniform[c]
        && !uniform[firstIns[0]] && !uniform[firstIns[1]]) {
      int a = firstIns[0];
      int b = firstIns[1];
      if (!vector) {
        return (arr, off, n) -> {
          float[] x = (float[]) arr[a];
          float[] y = (float[]) arr[b];
          float[] o = (float[]) arr[out];
          float s = add ? ((float[]) arr[c])[off[c]] : -((float[]) arr[c])[off[c]];
          if ((off[a] | off[b] | off[out]) == 0) {
            ScalarArithmetic.mulAdd(x, y, s, o, n);
          } else {
            for (int i = 0; i < n; i++) o[off[out] + i] = x[off[a] + i] * y[off[b] + i] + s;
          }
        };
      }
      return (arr, off, n) -> VectorArithmetic.mulAddScalar(add, (float[]) arr[a], off[a], (float[]) arr[b], off[b],
          ((float[]) arr[c])[off[c]], (float[]) arr[out], off[out], n);
    }
    return null;
  }

  private static FusedKernel.Instr unary(UnaryKernels.Op op, DType d, int x, int y, boolean vectorApi) {
    boolean vector = vectorApi && VectorMath.handles(op);
    boolean vectorF32 = vectorApi && VectorMath.handlesF32(op);
    boolean vectorArithmetic = vectorApi && VectorArithmetic.handles(op);
    boolean scalarMath = !vectorApi && ScalarMath.handles(op);
    ScalarArithmetic.Unary plain = vectorApi ? null : ScalarArithmetic.unary(op);
    return switch (d) {
      case FLOAT32 -> vectorF32
          ? (arr, off, n) -> VectorMath.f32(op, (float[]) arr[x], off[x], (float[]) arr[y], off[y], n)
          : vectorArithmetic
          ? (arr, off, n) -> VectorArithmetic.f32(op, (float[]) arr[x], off[x], (float[]) arr[y], off[y], n)
          : scalarMath
          ? scalarMath(op, x, y)
          : plain != null
          ? (arr, off, n) -> {
            if ((off[x] | off[y]) == 0) {
              plain.run((float[]) arr[x], (float[]) arr[y], n);
            } else {
              UnaryKernels.f32(op, (float[]) arr[x], off[x], (float[]) arr[y], off[y], n);
            }
          }
          : (arr, off, n) -> UnaryKernels.f32(op, (float[]) arr[x], off[x], (float[]) arr[y], off[y], n);
      case FLOAT64 -> vector
          ? (arr, off, n) -> VectorMath.f64(op, (double[]) arr[x], off[x], (double[]) arr[y], off[y], n)
          : (arr, off, n) -> UnaryKernels.f64(op, (double[]) arr[x], off[x], (double[]) arr[y], off[y], n);
      case INT32 -> (arr, off, n) -> UnaryKernels.i32(op, (int[]) arr[x], off[x], (int[]) arr[y], off[y], n);
      case INT64 -> (arr, off, n) -> UnaryKernels.i64(op, (long[]) arr[x], off[x], (long[]) arr[y], off[y], n);
      case BOOL -> (arr, off, n) -> UnaryKernels.not((boolean[]) arr[x], off[x], (boolean[]) arr[y], off[y], n);
      default -> throw dev.kiln.runtime.kernels.NarrowTypes.notLowered(d);
    };
  }

  /** One method per function (a row that switched over all three compiled too large to vectorize). */
  private static FusedKernel.Instr scalarMath(UnaryKernels.Op op, int x, int y) {
    return switch (op) {
      case EXP -> (arr, off, n) -> ScalarMath.expScaled((float[]) arr[x], off[x], 1f, (float[]) arr[y], off[y], n);
      case SIGMOID -> (arr, off, n) -> ScalarMath.sigmoid((float[]) arr[x], off[x], (float[]) arr[y], off[y], n);
      case TANH -> (arr, off, n) -> ScalarMath.tanh((float[]) arr[x], off[x], (float[]) arr[y], off[y], n);
      default -> throw new AssertionError(op);
    };
  }

  private static int kind(int a, int b, boolean[] uniform) {
    if (uniform[a] == uniform[b]) {
      return ArithmeticKernels.VV; // both advance, or both uniform (computed on one element)
    }
    return uniform[b] ? ArithmeticKernels.VS : ArithmeticKernels.SV;
  }

  private static FusedKernel.Instr arithmetic(ArithmeticKernels.Op op, DType d, int a, int b, int o, boolean[] uniform,
      boolean vectorApi) {
    int k = kind(a, b, uniform);
    boolean vector = vectorApi && VectorArithmetic.handles(op);
    boolean vectorPow = vectorApi && op == ArithmeticKernels.Op.POW;
    ScalarArithmetic.Binary plain = vectorApi ? null : ScalarArithmetic.binary(op, k);
    return switch (d) {
      case FLOAT32 -> vector
          ? (arr, off, n) -> VectorArithmetic.f32(op, k, (float[]) arr[a], off[a], (float[]) arr[b], off[b], (float[]) arr[o], off[o], n)
          : vectorPow
          ? (arr, off, n) -> WideVectorMath.pow(k, (float[]) arr[a], off[a], (float[]) arr[b], off[b], (float[]) arr[o], off[o], n)
          : plain != null
          ? (arr, off, n) -> {
            if ((off[a] | off[b] | off[o]) == 0) {
              plain.run((float[]) arr[a], (float[]) arr[b], (float[]) arr[o], n);
            } else {
              ArithmeticKernels.f32(op, k, (float[]) arr[a], off[a], (float[]) arr[b], off[b], (float[]) arr[o], off[o], n);
            }
          }
          : (arr, off, n) ->
          ArithmeticKernels.f32(op, k, (float[]) arr[a], off[a], (float[]) arr[b], off[b], (float[]) arr[o], off[o], n);
      case FLOAT64 -> (arr, off, n) ->
          ArithmeticKernels.f64(op, k, (double[]) arr[a], off[a], (double[]) arr[b], off[b], (double[]) arr[o], off[o], n);
      case INT32 -> (arr, off, n) -> intOp(() ->
          ArithmeticKernels.i32(op, k, (int[]) arr[a], off[a], (int[]) arr[b], off[b], (int[]) arr[o], off[o], n), op);
      case INT64 -> (arr, off, n) -> intOp(() ->
          ArithmeticKernels.i64(op, k, (long[]) arr[a], off[a], (long[]) arr[b], off[b], (long[]) arr[o], off[o], n), op);
      case BOOL -> throw new IllegalArgumentException("no fused CPU loop for " + op + " on bool");
      default -> throw dev.kiln.runtime.kernels.NarrowTypes.notLowered(d);
    };
  }

  private static void intOp(Runnable r, ArithmeticKernels.Op op) {
    try {
      r.run();
    } catch (ArithmeticException e) {
      throw new ArithmeticException(op == ArithmeticKernels.Op.DIV ? "integer division by zero" : e.getMessage());
    }
  }

  private static FusedKernel.Instr compare(CompareKernels.Op op, DType d, int a, int b, int o, boolean[] uniform,
      boolean vector) {
    int k = kind(a, b, uniform);
    return switch (d) {
      // Blocks are long, so the vector compares pay (the standalone kernels stay scalar: rows of a few floats hold no whole vector).
      case FLOAT32 -> vector
          ? (arr, off, n) -> VectorArithmetic.compare(op, k, (float[]) arr[a], off[a], (float[]) arr[b], off[b], (boolean[]) arr[o], off[o], n)
          : (arr, off, n) -> CompareKernels.f32(op, k, (float[]) arr[a], off[a], (float[]) arr[b], off[b], (boolean[]) arr[o], off[o], n);
      case FLOAT64 -> (arr, off, n) -> CompareKernels.f64(op, k, (double[]) arr[a], off[a], (double[]) arr[b], off[b], (boolean[]) arr[o], off[o], n);
      case INT32 -> (arr, off, n) -> CompareKernels.i32(op, k, (int[]) arr[a], off[a], (int[]) arr[b], off[b], (boolean[]) arr[o], off[o], n);
      case INT64 -> (arr, off, n) -> CompareKernels.i64(op, k, (long[]) arr[a], off[a], (long[]) arr[b], off[b], (boolean[]) arr[o], off[o], n);
      case BOOL -> (arr, off, n) -> CompareKernels.bool(op, k, (boolean[]) arr[a], off[a], (boolean[]) arr[b], off[b], (boolean[]) arr[o], off[o], n);
      default -> throw dev.kiln.runtime.kernels.NarrowTypes.notLowered(d);
    };
  }


  private static FusedKernel.Instr select(DType d, int[] ins, int o, boolean[] uniform, boolean vector) {
    int c = ins[0];
    int x = ins[1];
    int y = ins[2];
    boolean out1 = uniform[o];
    int sc = uniform[c] && !out1 ? 0 : 1;
    int sx = uniform[x] && !out1 ? 0 : 1;
    int sy = uniform[y] && !out1 ? 0 : 1;
    return (arr, off, n) -> {
      boolean[] cc = (boolean[]) arr[c];
      int co = off[c];
      int xo = off[x];
      int yo = off[y];
      int oo = off[o];
      switch (d) {
        case FLOAT32 -> {
          float[] xx = (float[]) arr[x];
          float[] yy = (float[]) arr[y];
          float[] out = (float[]) arr[o];
          if (sc == 1 && sx == 1 && sy == 1 && vector) {
            VectorArithmetic.select(cc, co, xx, xo, yy, yo, out, oo, n);
          } else if (sc == 1 && sx + sy == 1 && vector) {
            VectorArithmetic.selectUniform(cc, co, xx, xo, sx, yy, yo, sy, out, oo, n);
          } else if (sc == 1 && sx == 1 && sy == 1) {
            for (int i = 0; i < n; i++) out[oo + i] = cc[co + i] ? xx[xo + i] : yy[yo + i];
          } else {
            for (int i = 0; i < n; i++) out[oo + i] = cc[co + i * sc] ? xx[xo + i * sx] : yy[yo + i * sy];
          }
        }
        case FLOAT64 -> {
          double[] xx = (double[]) arr[x];
          double[] yy = (double[]) arr[y];
          double[] out = (double[]) arr[o];
          for (int i = 0; i < n; i++) out[oo + i] = cc[co + i * sc] ? xx[xo + i * sx] : yy[yo + i * sy];
        }
        case INT32 -> {
          int[] xx = (int[]) arr[x];
          int[] yy = (int[]) arr[y];
          int[] out = (int[]) arr[o];
          for (int i = 0; i < n; i++) out[oo + i] = cc[co + i * sc] ? xx[xo + i * sx] : yy[yo + i * sy];
        }
        case INT64 -> {
          long[] xx = (long[]) arr[x];
          long[] yy = (long[]) arr[y];
          long[] out = (long[]) arr[o];
          for (int i = 0; i < n; i++) out[oo + i] = cc[co + i * sc] ? xx[xo + i * sx] : yy[yo + i * sy];
        }
        case BOOL -> {
          boolean[] xx = (boolean[]) arr[x];
          boolean[] yy = (boolean[]) arr[y];
          boolean[] out = (boolean[]) arr[o];
          for (int i = 0; i < n; i++) out[oo + i] = cc[co + i * sc] ? xx[xo + i * sx] : yy[yo + i * sy];
        }
      }
    };
  }

  /** AddN as a chain of adds into the output (which never shares a register with an input). */
  private static FusedKernel.Instr addN(DType d, int[] ins, int o, boolean[] uniform, boolean vector) {
    if (ins.length == 1) {
      int x = ins[0]; // the output is uniform exactly when the input is
      return (arr, off, n) -> System.arraycopy(arr[x], off[x], arr[o], off[o], n);
    }
    FusedKernel.Instr[] steps = new FusedKernel.Instr[ins.length - 1];
    steps[0] = arithmetic(ArithmeticKernels.Op.ADD, d, ins[0], ins[1], o, uniform, vector);
    for (int k = 2; k < ins.length; k++) {
      steps[k - 1] = arithmetic(ArithmeticKernels.Op.ADD, d, o, ins[k], o, uniform, vector);
    }
    return (arr, off, n) -> {
      for (FusedKernel.Instr s : steps) {
        s.run(arr, off, n);
      }
    };
  }

  private static FusedKernel.Instr fill(DType d, int o, double v) {
    return (arr, off, n) -> fillRange(d, arr[o], off[o], n, v);
  }

  static void fillRange(DType d, Object array, int from, int n, double v) {
    switch (d) {
      case FLOAT32 -> Arrays.fill((float[]) array, from, from + n, (float) v);
      case FLOAT64 -> Arrays.fill((double[]) array, from, from + n, v);
      case INT32 -> Arrays.fill((int[]) array, from, from + n, (int) v);
      case INT64 -> Arrays.fill((long[]) array, from, from + n, (long) v);
      case BOOL -> Arrays.fill((boolean[]) array, from, from + n, v != 0);
    }
  }

  /** dst[to .. to+n) = src[at], any dtype. */
  static void broadcastInto(Object src, int at, Object dst, int to, int n) {
    switch (src) {
      case float[] a -> Arrays.fill((float[]) dst, to, to + n, a[at]);
      case double[] a -> Arrays.fill((double[]) dst, to, to + n, a[at]);
      case int[] a -> Arrays.fill((int[]) dst, to, to + n, a[at]);
      case long[] a -> Arrays.fill((long[]) dst, to, to + n, a[at]);
      case boolean[] a -> Arrays.fill((boolean[]) dst, to, to + n, a[at]);
      default -> throw new AssertionError(src);
    }
  }
}
