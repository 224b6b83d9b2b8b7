package dev.kiln.runtime.kernels;

/**
 * Float rows of a fused body without the Vector API: the same expressions as ArithmeticKernels' and
 * UnaryKernels' loops (so the same bits), one small method per op and operand kind, each over arrays
 * from index 0. C2 vectorizes such a loop by itself; it leaves the library's loops scalar there, as
 * they take an offset per array (two float arrays at unrelated offsets might overlap) and sit many to
 * a method. A fused body with such rows keeps its values at offset 0 (FusedKernel.hasPlainLoopRows).
 */
public final class ScalarArithmetic {
  private ScalarArithmetic() {}

  /** o = a op b over n elements; a uniform operand (VS: b, SV: a) is its element 0. */
  @FunctionalInterface
  public interface Binary {
    void run(float[] a, float[] b, float[] o, int n);
  }

  /** y = op(x) over n elements. */
  @FunctionalInterface
  public interface Unary {
    void run(float[] x, float[] y, int n);
  }

  /** The row of op and kind (ArithmeticKernels.VV, VS, SV), or null (Pow). */
  public static Binary binary(ArithmeticKernels.Op op, int kind) {
    return switch (op) {
      case ADD -> kind == ArithmeticKernels.VV ? ScalarArithmetic::addVV
          : kind == ArithmeticKernels.VS ? ScalarArithmetic::addVS : ScalarArithmetic::addSV;
      case SUB -> kind == ArithmeticKernels.VV ? ScalarArithmetic::subVV
          : kind == ArithmeticKernels.VS ? ScalarArithmetic::subVS : ScalarArithmetic::subSV;
      case MUL -> kind == ArithmeticKernels.VV ? ScalarArithmetic::mulVV
          : kind == ArithmeticKernels.VS ? ScalarArithmetic::mulVS : ScalarArithmetic::mulSV;
      case DIV -> kind == ArithmeticKernels.VV ? ScalarArithmetic::divVV
          : kind == ArithmeticKernels.VS ? ScalarArithmetic::divVS : ScalarArithmetic::divSV;
      case MAX -> kind == ArithmeticKernels.VV ? ScalarArithmetic::maxVV
          : kind == ArithmeticKernels.VS ? ScalarArithmetic::maxVS : ScalarArithmetic::maxSV;
      case MIN -> kind == ArithmeticKernels.VV ? ScalarArithmetic::minVV
          : kind == ArithmeticKernels.VS ? ScalarArithmetic::minVS : ScalarArithmetic::minSV;
      case POW -> null;
    };
  }

  /** The row of op, or null where ScalarMath or the library computes it. */
  public static Unary unary(UnaryKernels.Op op) {
    return switch (op) {
      case NEG -> ScalarArithmetic::neg;
      case SQUARE -> ScalarArithmetic::square;
      case ABS -> ScalarArithmetic::abs;
      case RELU -> ScalarArithmetic::relu;
      case SQRT -> ScalarArithmetic::sqrt;
      case RSQRT -> ScalarArithmetic::rsqrt;
      case RECIPROCAL -> ScalarArithmetic::reciprocal;
      default -> null;
    };
  }

  static void neg(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = -x[i];
    }
  }

  static void square(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = x[i] * x[i];
    }
  }

  static void abs(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = Math.abs(x[i]);
    }
  }

  static void relu(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = Math.max(x[i], 0f);
    }
  }

  static void sqrt(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = (float) Math.sqrt(x[i]);
    }
  }

  static void rsqrt(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = 1f / (float) Math.sqrt(x[i]);
    }
  }

  static void reciprocal(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      y[i] = 1f / x[i];
    }
  }

  /** o = (-a) * b (a fused Neg read only by a Mul). */
  public static void negMul(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = -a[i] * b[i];
    }
  }

  /** o = a * b + c, two roundings (a fused Mul read only by an Add or, with -c, a Sub). */
  public static void mulAdd(float[] a, float[] b, float c, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = a[i] * b[i] + c;
    }
  }

  static void addVV(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = a[i] + b[i];
    }
  }

  static void addVS(float[] a, float[] b, float[] o, int n) {
    float s = b[0];
    for (int i = 0; i < n; i++) {
      o[i] = a[i] + s;
    }
  }

  static void addSV(float[] a, float[] b, float[] o, int n) {
    float s = a[0];
    for (int i = 0; i < n; i++) {
      o[i] = s + b[i];
    }
  }

  static void subVV(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = a[i] - b[i];
    }
  }

  static void subVS(float[] a, float[] b, float[] o, int n) {
    float s = b[0];
    for (int i = 0; i < n; i++) {
      o[i] = a[i] - s;
    }
  }

  static void subSV(float[] a, float[] b, float[] o, int n) {
    float s = a[0];
    for (int i = 0; i < n; i++) {
      o[i] = s - b[i];
    }
  }

  static void mulVV(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = a[i] * b[i];
    }
  }

  static void mulVS(float[] a, float[] b, float[] o, int n) {
    float s = b[0];
    for (int i = 0; i < n; i++) {
      o[i] = a[i] * s;
    }
  }

  static void mulSV(float[] a, float[] b, float[] o, int n) {
    float s = a[0];
    for (int i = 0; i < n; i++) {
      o[i] = s * b[i];
    }
  }

  static void divVV(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = a[i] / b[i];
    }
  }

  static void divVS(float[] a, float[] b, float[] o, int n) {
    float s = b[0];
    for (int i = 0; i < n; i++) {
      o[i] = a[i] / s;
    }
  }

  static void divSV(float[] a, float[] b, float[] o, int n) {
    float s = a[0];
    for (int i = 0; i < n; i++) {
      o[i] = s / b[i];
    }
  }

  static void maxVV(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = Math.max(a[i], b[i]);
    }
  }

  static void maxVS(float[] a, float[] b, float[] o, int n) {
    float s = b[0];
    for (int i = 0; i < n; i++) {
      o[i] = Math.max(a[i], s);
    }
  }

  static void maxSV(float[] a, float[] b, float[] o, int n) {
    float s = a[0];
    for (int i = 0; i < n; i++) {
      o[i] = Math.max(s, b[i]);
    }
  }

  static void minVV(float[] a, float[] b, float[] o, int n) {
    for (int i = 0; i < n; i++) {
      o[i] = Math.min(a[i], b[i]);
    }
  }

  static void minVS(float[] a, float[] b, float[] o, int n) {
    float s = b[0];
    for (int i = 0; i < n; i++) {
      o[i] = Math.min(a[i], s);
    }
  }

  static void minSV(float[] a, float[] b, float[] o, int n) {
    float s = a[0];
    for (int i = 0; i < n; i++) {
      o[i] = Math.min(s, b[i]);
    }
  }
}
