package dev.kiln.runtime;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Transcendental functions over array ranges with the Vector API (on x86-64 the JDK backs EXP, TANH,
 * LOG, SIN, COS and POW with its SVML-derived intrinsics, within 1 ulp for float): what makes a fused
 * chain like W3 memory-bound instead of bound by scalar Math.exp. Only loaded when
 * {@link VectorSupport#AVAILABLE}. Each operator is a constant inside its own loop so that C2
 * intrinsifies it; the tail runs masked.
 */
final class VectorMath {
  private VectorMath() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

  /** True for the unary ops this class computes. */
  static boolean handles(UnaryKernels.Op op) {
    return switch (op) {
      case EXP, LOG, SIN, COS, SIGMOID, TANH -> true;
      default -> false;
    };
  }

  static void f32(UnaryKernels.Op op, float[] x, int xo, float[] y, int yo, int n) {
    switch (op) {
      case EXP -> {
        int i = 0;
        for (int b = F.loopBound(n); i < b; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.EXP).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).lanewise(VectorOperators.EXP).intoArray(y, yo + i, m);
        }
      }
      case LOG -> {
        int i = 0;
        for (int b = F.loopBound(n); i < b; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.LOG).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).lanewise(VectorOperators.LOG).intoArray(y, yo + i, m);
        }
      }
      case SIN -> {
        int i = 0;
        for (int b = F.loopBound(n); i < b; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.SIN).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).lanewise(VectorOperators.SIN).intoArray(y, yo + i, m);
        }
      }
      case COS -> {
        int i = 0;
        for (int b = F.loopBound(n); i < b; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.COS).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).lanewise(VectorOperators.COS).intoArray(y, yo + i, m);
        }
      }
      case TANH -> {
        int i = 0;
        for (int b = F.loopBound(n); i < b; i += F.length()) {
          FloatVector.fromArray(F, x, xo + i).lanewise(VectorOperators.TANH).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector.fromArray(F, x, xo + i, m).lanewise(VectorOperators.TANH).intoArray(y, yo + i, m);
        }
      }
      case SIGMOID -> { // 1 / (1 + exp(-x))
        FloatVector one = FloatVector.broadcast(F, 1f);
        int i = 0;
        for (int b = F.loopBound(n); i < b; i += F.length()) {
          FloatVector e = FloatVector.fromArray(F, x, xo + i).neg().lanewise(VectorOperators.EXP);
          one.div(e.add(one)).intoArray(y, yo + i);
        }
        if (i < n) {
          VectorMask<Float> m = F.indexInRange(i, n);
          FloatVector e = FloatVector.fromArray(F, x, xo + i, m).neg().lanewise(VectorOperators.EXP);
          one.div(e.add(one)).intoArray(y, yo + i, m);
        }
      }
      default -> throw new AssertionError(op);
    }
  }

  static void f64(UnaryKernels.Op op, double[] x, int xo, double[] y, int yo, int n) {
    switch (op) {
      case EXP -> {
        int i = 0;
        for (int b = D.loopBound(n); i < b; i += D.length()) {
          DoubleVector.fromArray(D, x, xo + i).lanewise(VectorOperators.EXP).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
          y[yo + i] = Math.exp(x[xo + i]);
        }
      }
      case LOG -> {
        int i = 0;
        for (int b = D.loopBound(n); i < b; i += D.length()) {
          DoubleVector.fromArray(D, x, xo + i).lanewise(VectorOperators.LOG).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
          y[yo + i] = Math.log(x[xo + i]);
        }
      }
      case SIN -> {
        int i = 0;
        for (int b = D.loopBound(n); i < b; i += D.length()) {
          DoubleVector.fromArray(D, x, xo + i).lanewise(VectorOperators.SIN).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
          y[yo + i] = Math.sin(x[xo + i]);
        }
      }
      case COS -> {
        int i = 0;
        for (int b = D.loopBound(n); i < b; i += D.length()) {
          DoubleVector.fromArray(D, x, xo + i).lanewise(VectorOperators.COS).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
          y[yo + i] = Math.cos(x[xo + i]);
        }
      }
      case TANH -> {
        int i = 0;
        for (int b = D.loopBound(n); i < b; i += D.length()) {
          DoubleVector.fromArray(D, x, xo + i).lanewise(VectorOperators.TANH).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
          y[yo + i] = Math.tanh(x[xo + i]);
        }
      }
      case SIGMOID -> {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        int i = 0;
        for (int b = D.loopBound(n); i < b; i += D.length()) {
          DoubleVector e = DoubleVector.fromArray(D, x, xo + i).neg().lanewise(VectorOperators.EXP);
          one.div(e.add(one)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
          y[yo + i] = 1.0 / (1.0 + Math.exp(-x[xo + i]));
        }
      }
      default -> throw new AssertionError(op);
    }
  }

  /** Pow over float rows: kind VV, VS or SV as in {@link ArithmeticKernels}. */
  static void powF32(int kind, float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
    int i = 0;
    for (int bound = F.loopBound(n); i < bound; i += F.length()) {
      FloatVector x = kind == ArithmeticKernels.SV ? FloatVector.broadcast(F, a[ao]) : FloatVector.fromArray(F, a, ao + i);
      FloatVector y = kind == ArithmeticKernels.VS ? FloatVector.broadcast(F, b[bo]) : FloatVector.fromArray(F, b, bo + i);
      x.lanewise(VectorOperators.POW, y).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      float x = kind == ArithmeticKernels.SV ? a[ao] : a[ao + i];
      float y = kind == ArithmeticKernels.VS ? b[bo] : b[bo + i];
      o[oo + i] = (float) Math.pow(x, y);
    }
  }

  static void powF64(int kind, double[] a, int ao, double[] b, int bo, double[] o, int oo, int n) {
    int i = 0;
    for (int bound = D.loopBound(n); i < bound; i += D.length()) {
      DoubleVector x = kind == ArithmeticKernels.SV ? DoubleVector.broadcast(D, a[ao]) : DoubleVector.fromArray(D, a, ao + i);
      DoubleVector y = kind == ArithmeticKernels.VS ? DoubleVector.broadcast(D, b[bo]) : DoubleVector.fromArray(D, b, bo + i);
      x.lanewise(VectorOperators.POW, y).intoArray(o, oo + i);
    }
    for (; i < n; i++) {
      double x = kind == ArithmeticKernels.SV ? a[ao] : a[ao + i];
      double y = kind == ArithmeticKernels.VS ? b[bo] : b[bo + i];
      o[oo + i] = Math.pow(x, y);
    }
  }
}
