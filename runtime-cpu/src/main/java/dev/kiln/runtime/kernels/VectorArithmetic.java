package dev.kiln.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float arithmetic rows for the fused interpreter with the Vector API: the library's scalar-typed
 * loops (ArithmeticKernels, UnaryKernels) are several times slower per row than an explicit vector
 * loop, which made them most of a fused chain's time. IEEE add/sub/mul/div and Java max/min semantics,
 * so results equal the library's loops bit for bit. One small loop per op and row kind (VV, VS, SV),
 * unmasked, then one masked step for the tail (a mask on every step made the rows twice as slow).
 * Only loaded when {@link VectorSupport#AVAILABLE}.
 */
public final class VectorArithmetic {
  private VectorArithmetic() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /** True for the binary ops this class computes. */
  public static boolean handles(ArithmeticKernels.Op op) {
    return op != ArithmeticKernels.Op.POW;
  }

  /** True for the unary ops this class computes. */
  public static boolean handles(UnaryKernels.Op op) {
    return switch (op) {
      case NEG, SQUARE, ABS, RELU, SQRT -> true;
      default -> false;
    };
  }

  public static void f32(ArithmeticKernels.Op op, int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (op) {
      case ADD -> add(kind, a, ao, b, bo, o, oo, n);
      case SUB -> sub(kind, a, ao, b, bo, o, oo, n);
      case MUL -> mul(kind, a, ao, b, bo, o, oo, n);
      case DIV -> div(kind, a, ao, b, bo, o, oo, n);
      case MAX -> max(kind, a, ao, b, bo, o, oo, n);
      case MIN -> min(kind, a, ao, b, bo, o, oo, n);
      default -> throw new AssertionError(op);
    }
  }

  // One small method per op: C1 gives up on a method holding several vector loops ("out of virtual
  // registers"), and the method then never reaches C2, running every vector op through the slow
  // non-intrinsic path, about twice as slow.
  public static void f32(UnaryKernels.Op op, float[] x, int xo, float[] y, int yo, int n) {
    switch (op) {
      case NEG -> neg(x, xo, y, yo, n);
      case SQUARE -> square(x, xo, y, yo, n);
      case ABS -> abs(x, xo, y, yo, n);
      case RELU -> relu(x, xo, y, yo, n);
      case SQRT -> sqrt(x, xo, y, yo, n);
      default -> throw new AssertionError(op);
    }
  }

  private static void neg(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, x, xo + i).neg().intoArray(y, yo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, x, xo + i, m).neg().intoArray(y, yo + i, m);
    }
  }

  private static void sqrt(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, x, xo + i).sqrt().intoArray(y, yo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, x, xo + i, m).sqrt().intoArray(y, yo + i, m);
    }
  }

  private static void square(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, x, xo + i);
      v.mul(v).intoArray(y, yo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(F, x, xo + i, m);
      v.mul(v).intoArray(y, yo + i, m);
    }
  }

  private static void abs(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, x, xo + i).abs().intoArray(y, yo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, x, xo + i, m).abs().intoArray(y, yo + i, m);
    }
  }

  private static void relu(float[] x, int xo, float[] y, int yo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, x, xo + i).max(0f).intoArray(y, yo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, x, xo + i, m).max(0f).intoArray(y, yo + i, m);
    }
  }

  private static void add(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> addVV(a, ao, b, bo, o, oo, n);
      case ArithmeticKernels.VS -> addVS(a, ao, b[bo], o, oo, n);
      default -> addSV(a[ao], b, bo, o, oo, n);
    }
  }

  private static void addVV(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).add(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  private static void addVS(float[] a, int ao, float sb, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sb);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).add(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).add(s).intoArray(o, oo + i, m);
    }
  }

  private static void addSV(float sa, float[] b, int bo, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sa);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      s.add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      s.add(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }


  private static void sub(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> subVV(a, ao, b, bo, o, oo, n);
      case ArithmeticKernels.VS -> subVS(a, ao, b[bo], o, oo, n);
      default -> subSV(a[ao], b, bo, o, oo, n);
    }
  }

  private static void subVV(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).sub(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  private static void subVS(float[] a, int ao, float sb, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sb);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).sub(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).sub(s).intoArray(o, oo + i, m);
    }
  }

  private static void subSV(float sa, float[] b, int bo, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sa);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      s.sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      s.sub(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }


  private static void mul(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> mulVV(a, ao, b, bo, o, oo, n);
      case ArithmeticKernels.VS -> mulVS(a, ao, b[bo], o, oo, n);
      default -> mulSV(a[ao], b, bo, o, oo, n);
    }
  }

  private static void mulVV(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).mul(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  private static void mulVS(float[] a, int ao, float sb, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sb);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).mul(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).mul(s).intoArray(o, oo + i, m);
    }
  }

  private static void mulSV(float sa, float[] b, int bo, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sa);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      s.mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      s.mul(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }


  private static void div(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> divVV(a, ao, b, bo, o, oo, n);
      case ArithmeticKernels.VS -> divVS(a, ao, b[bo], o, oo, n);
      default -> divSV(a[ao], b, bo, o, oo, n);
    }
  }

  private static void divVV(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).div(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  private static void divVS(float[] a, int ao, float sb, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sb);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).div(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).div(s).intoArray(o, oo + i, m);
    }
  }

  private static void divSV(float sa, float[] b, int bo, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sa);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      s.div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      s.div(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }


  private static void max(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> maxVV(a, ao, b, bo, o, oo, n);
      case ArithmeticKernels.VS -> maxVS(a, ao, b[bo], o, oo, n);
      default -> maxSV(a[ao], b, bo, o, oo, n);
    }
  }

  private static void maxVV(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).max(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  private static void maxVS(float[] a, int ao, float sb, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sb);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).max(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).max(s).intoArray(o, oo + i, m);
    }
  }

  private static void maxSV(float sa, float[] b, int bo, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sa);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      s.max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      s.max(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }


  private static void min(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> minVV(a, ao, b, bo, o, oo, n);
      case ArithmeticKernels.VS -> minVS(a, ao, b[bo], o, oo, n);
      default -> minSV(a[ao], b, bo, o, oo, n);
    }
  }

  private static void minVV(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).min(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  private static void minVS(float[] a, int ao, float sb, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sb);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).min(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).min(s).intoArray(o, oo + i, m);
    }
  }

  private static void minSV(float sa, float[] b, int bo, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, sa);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      s.min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      s.min(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }


  // Two rows in one loop, for a value read only by the next row: saves a block's store and reload
  // and a loop (each row is a sizable share of a fused chain). Each op rounds as its own row does,
  // so the results are bit-identical.

  /** o = (-a) * b. */
  public static void negMul(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).neg().mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).neg().mul(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
    }
  }

  /** o = a * b + c (add) or a * b - c (not add: the same as adding -c), two roundings. */
  public static void mulAddScalar(boolean add, float[] a, int ao, float[] b, int bo, float c, float[] o, int oo, int n) {
    FloatVector s = FloatVector.broadcast(F, add ? c : -c);
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).add(s).intoArray(o, oo + i);
    }
    if (i < n) {
      VectorMask<Float> m = F.indexInRange(i, n);
      FloatVector.fromArray(F, a, ao + i, m).mul(FloatVector.fromArray(F, b, bo + i, m)).add(s).intoArray(o, oo + i, m);
    }
  }

  /**
   * out = c ? x : y without strides. A blend under a mask loaded from the booleans: the scalar
   * ternary branches on data (a relu gradient's mask is random) and does not vectorize.
   */
  public static void select(boolean[] c, int co, float[] x, int xo, float[] y, int yo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      VectorMask<Float> m = VectorMask.fromArray(F, c, co + i);
      FloatVector.fromArray(F, y, yo + i).blend(FloatVector.fromArray(F, x, xo + i), m).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    }
  }

  /**
   * o = c ? x : y where one of x, y is a single value (xs/ys: 1 for a block, 0 for a value repeated),
   * e.g. relu's gradient mask select(h > 0, g, zerosLike(g)): a blend, no branch per element.
   */
  public static void selectUniform(boolean[] c, int co, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] o, int oo,
      int n) {
    int i = 0;
    if (xs == 1) {
      FloatVector yv = FloatVector.broadcast(F, y[yo]);
      for (int bound = F.loopBound(n); i < bound; i += F.length()) {
        VectorMask<Float> m = VectorMask.fromArray(F, c, co + i);
        yv.blend(FloatVector.fromArray(F, x, xo + i), m).intoArray(o, oo + i);
      }
    } else {
      FloatVector xv = FloatVector.broadcast(F, x[xo]);
      for (int bound = F.loopBound(n); i < bound; i += F.length()) {
        VectorMask<Float> m = VectorMask.fromArray(F, c, co + i);
        FloatVector.fromArray(F, y, yo + i).blend(xv, m).intoArray(o, oo + i);
      }
    }
    for (; i < n; i++) {
      o[oo + i] = c[co + i] ? x[xo + i * xs] : y[yo + i * ys];
    }
  }

  /**
   * Java's float comparisons (NaN compares false, except !=) as vector compares into a bool array. Each
   * branch passes a constant operator to small loops that inline there: the Vector API intrinsifies a
   * compare only when its operator is a constant (otherwise every vector is boxed).
   */
  public static void compare(CompareKernels.Op op, int kind, float[] a, int ao, float[] b, int bo, boolean[] o, int oo, int n) {
    int i = switch (op) {
      case LT -> compareLoop(VectorOperators.LT, kind, a, ao, b, bo, o, oo, n);
      case LE -> compareLoop(VectorOperators.LE, kind, a, ao, b, bo, o, oo, n);
      case EQ -> compareLoop(VectorOperators.EQ, kind, a, ao, b, bo, o, oo, n);
      case NE -> compareLoop(VectorOperators.NE, kind, a, ao, b, bo, o, oo, n);
      default -> throw new AssertionError(op);
    };
    int as = kind == ArithmeticKernels.SV ? 0 : 1;
    int bs = kind == ArithmeticKernels.VS ? 0 : 1;
    for (; i < n; i++) {
      float x = a[ao + i * as];
      float y = b[bo + i * bs];
      o[oo + i] = switch (op) {
        case LT -> x < y;
        case LE -> x <= y;
        case EQ -> x == y;
        default -> x != y;
      };
    }
  }

  /** The whole vectors of a comparison; returns where the tail starts. */
  private static int compareLoop(VectorOperators.Comparison c, int kind, float[] a, int ao, float[] b, int bo, boolean[] o,
      int oo, int n) {
    int bound = F.loopBound(n);
    if (kind == ArithmeticKernels.VV) {
      for (int i = 0; i < bound; i += F.length()) {
        FloatVector.fromArray(F, a, ao + i).compare(c, FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
      }
    } else if (kind == ArithmeticKernels.VS) {
      FloatVector s = FloatVector.broadcast(F, b[bo]);
      for (int i = 0; i < bound; i += F.length()) {
        FloatVector.fromArray(F, a, ao + i).compare(c, s).intoArray(o, oo + i);
      }
    } else {
      FloatVector s = FloatVector.broadcast(F, a[ao]);
      for (int i = 0; i < bound; i += F.length()) {
        s.compare(c, FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
      }
    }
    return bound;
  }
}
