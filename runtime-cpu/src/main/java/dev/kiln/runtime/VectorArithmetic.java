package dev.kiln.runtime;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float arithmetic rows for the fused interpreter with the Vector API: the library's scalar-typed
 * loops (ArithmeticKernels, UnaryKernels) are several times slower per row than an explicit vector
 * loop, which made them most of a fused W3's time. IEEE add/sub/mul/div and Java max/min semantics,
 * so results equal the library's loops bit for bit. One small loop per op and row kind (VV, VS, SV),
 * unmasked, then one masked step for the tail (a mask on every step made the rows twice as slow).
 * Only loaded when {@link VectorSupport#AVAILABLE}.
 */
final class VectorArithmetic {
  private VectorArithmetic() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /** True for the binary ops this class computes. */
  static boolean handles(ArithmeticKernels.Op op) {
    return op != ArithmeticKernels.Op.POW;
  }

  /** True for the unary ops this class computes. */
  static boolean handles(UnaryKernels.Op op) {
    return switch (op) {
      case NEG, SQUARE, ABS, RELU -> true;
      default -> false;
    };
  }

  static void f32(ArithmeticKernels.Op op, int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
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

  static void f32(UnaryKernels.Op op, float[] x, int xo, float[] y, int yo, int n) {
    switch (op) {
      case NEG -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).neg().intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).neg().intoArray(y, yo + i, m);
        }
      }
      case SQUARE -> {
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
      case ABS -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).abs().intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).abs().intoArray(y, yo + i, m);
        }
      }
      case RELU -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).max(0f).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).max(0f).intoArray(y, yo + i, m);
        }
      }
      default -> throw new AssertionError(op);
    }
  }

  private static void add(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).add(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
      case ArithmeticKernels.VS -> {
        FloatVector s = FloatVector.broadcast(F, b[bo]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).add(s).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).add(s).intoArray(o, oo + i, m);
        }
      }
      default -> {
        FloatVector s = FloatVector.broadcast(F, a[ao]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          s.add(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          s.add(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
    }
  }

  private static void sub(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).sub(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
      case ArithmeticKernels.VS -> {
        FloatVector s = FloatVector.broadcast(F, b[bo]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).sub(s).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).sub(s).intoArray(o, oo + i, m);
        }
      }
      default -> {
        FloatVector s = FloatVector.broadcast(F, a[ao]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          s.sub(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          s.sub(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
    }
  }

  private static void mul(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).mul(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
      case ArithmeticKernels.VS -> {
        FloatVector s = FloatVector.broadcast(F, b[bo]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).mul(s).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).mul(s).intoArray(o, oo + i, m);
        }
      }
      default -> {
        FloatVector s = FloatVector.broadcast(F, a[ao]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          s.mul(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          s.mul(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
    }
  }

  private static void div(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).div(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
      case ArithmeticKernels.VS -> {
        FloatVector s = FloatVector.broadcast(F, b[bo]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).div(s).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).div(s).intoArray(o, oo + i, m);
        }
      }
      default -> {
        FloatVector s = FloatVector.broadcast(F, a[ao]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          s.div(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          s.div(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
    }
  }

  private static void max(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).max(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
      case ArithmeticKernels.VS -> {
        FloatVector s = FloatVector.broadcast(F, b[bo]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).max(s).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).max(s).intoArray(o, oo + i, m);
        }
      }
      default -> {
        FloatVector s = FloatVector.broadcast(F, a[ao]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          s.max(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          s.max(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
    }
  }

  private static void min(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    switch (kind) {
      case ArithmeticKernels.VV -> {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).min(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
      case ArithmeticKernels.VS -> {
        FloatVector s = FloatVector.broadcast(F, b[bo]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          FloatVector.fromArray(F, a, ao + i).min(s).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, a, ao + i, m).min(s).intoArray(o, oo + i, m);
        }
      }
      default -> {
        FloatVector s = FloatVector.broadcast(F, a[ao]);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
          s.min(FloatVector.fromArray(F, b, bo + i)).intoArray(o, oo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          s.min(FloatVector.fromArray(F, b, bo + i, m)).intoArray(o, oo + i, m);
        }
      }
    }
  }

  /**
   * out = c ? x : y without strides. A blend under a mask loaded from the booleans: the scalar
   * ternary branches on data (a relu gradient's mask is random) and does not vectorize.
   */
  static void select(boolean[] c, int co, float[] x, int xo, float[] y, int yo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      VectorMask<Float> m = VectorMask.fromArray(F, c, co + i);
      FloatVector.fromArray(F, y, yo + i).blend(FloatVector.fromArray(F, x, xo + i), m).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      o[oo + i] = c[co + i] ? x[xo + i] : y[yo + i];
    }
  }
}
