package dev.kiln.graph;

/**
 * Conversions into and out of the narrow types ({@link DType#isNarrow}): rounding a value to the
 * nearest float16 or bfloat16 (ties to even; past the largest finite value, infinity; NaN stays NaN;
 * the sign of zero kept), wrapping an integer into int8, uint8 or int16 (two's complement, as C and
 * ONNX do), and the bit patterns of the 16-bit floats. The runtimes store through these.
 */
public final class Narrowing {
  private Narrowing() {}

  /** The float16 nearest to {@code x}, as the float holding it exactly. */
  public static float toFloat16(float x) {
    return Float.float16ToFloat(Float.floatToFloat16(x));
  }

  /** The float16 nearest to {@code x}, rounded once from the double (no double rounding through float). */
  public static float toFloat16(double x) {
    return round(x, 10, -14, 15);
  }

  /** The bfloat16 nearest to {@code x}, as the float holding it exactly. */
  public static float toBfloat16(float x) {
    int bits = Float.floatToRawIntBits(x);
    if (Float.isNaN(x)) {
      return Float.intBitsToFloat((bits | 0x00400000) & 0xFFFF0000); // stays NaN, quiet
    }
    // Adds half an ulp of bfloat16, less one when the kept part is even: round to nearest, ties to even.
    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
    return Float.intBitsToFloat(rounded & 0xFFFF0000);
  }

  /** The bfloat16 nearest to {@code x}, rounded once from the double. */
  public static float toBfloat16(double x) {
    return round(x, 7, -126, 127);
  }

  /**
   * {@code x} rounded to a binary format with {@code mantissa} fraction bits, minimum normal exponent
   * {@code emin} and maximum exponent {@code emax}: a multiple of the ulp of x's binade (of the
   * subnormal ulp below emin), exactly, by {@code Math.rint}'s ties-to-even.
   */
  private static float round(double x, int mantissa, int emin, int emax) {
    if (Double.isNaN(x)) {
      return Float.NaN;
    }
    double a = Math.abs(x);
    if (a >= Math.scalb(1.0, emax + 1)) {
      return (float) Math.copySign(Double.POSITIVE_INFINITY, x);
    }
    int e = Math.max(Math.getExponent(a), emin);
    double ulp = Math.scalb(1.0, e - mantissa);
    double r = Math.rint(a / ulp) * ulp;
    double max = Math.scalb(2.0 - Math.scalb(1.0, -mantissa), emax);
    return (float) Math.copySign(r > max ? Double.POSITIVE_INFINITY : r, x);
  }

  /** The float of {@code dtype} (f16 or bf16) nearest to {@code x}. */
  public static float toFloat(DType dtype, double x) {
    return switch (dtype) {
      case FLOAT16 -> toFloat16(x);
      case BFLOAT16 -> toBfloat16(x);
      default -> throw new IllegalArgumentException("not a 16-bit float type: " + dtype);
    };
  }

  /** {@code v} wrapped into {@code dtype} (i8, u8 or i16), or itself for i32. */
  public static int wrap(DType dtype, long v) {
    return switch (dtype) {
      case INT8 -> (byte) v;
      case UINT8 -> (int) (v & 0xFF);
      case INT16 -> (short) v;
      case INT32 -> (int) v;
      default -> throw new IllegalArgumentException("not a narrow integer type: " + dtype);
    };
  }

  /** Whether {@code v} is a value of {@code dtype}'s range (i8, u8, i16). */
  public static boolean inRange(DType dtype, long v) {
    return wrap(dtype, v) == v;
  }

  /**
   * Narrows {@code n} elements of {@code array} from {@code offset} in place: a float[] holding f16 or
   * bf16 values rounded, an int[] holding i8, u8 or i16 values wrapped; nothing for other dtypes.
   */
  public static void narrowInPlace(DType dtype, Object array, int offset, int n) {
    switch (dtype) {
      case FLOAT16 -> {
        float[] a = (float[]) array;
        for (int i = offset; i < offset + n; i++) {
          a[i] = toFloat16(a[i]);
        }
      }
      case BFLOAT16 -> {
        float[] a = (float[]) array;
        for (int i = offset; i < offset + n; i++) {
          a[i] = toBfloat16(a[i]);
        }
      }
      case INT8 -> {
        int[] a = (int[]) array;
        for (int i = offset; i < offset + n; i++) {
          a[i] = (byte) a[i];
        }
      }
      case UINT8 -> {
        int[] a = (int[]) array;
        for (int i = offset; i < offset + n; i++) {
          a[i] &= 0xFF;
        }
      }
      case INT16 -> {
        int[] a = (int[]) array;
        for (int i = offset; i < offset + n; i++) {
          a[i] = (short) a[i];
        }
      }
      default -> {}
    }
  }

  /**
   * The index of the first of {@code n} elements of a storage array that is not a value of narrow
   * {@code dtype} (a float16 or bfloat16 a float holds exactly, NaN included; an integer in range), or -1.
   */
  public static int firstOutside(DType dtype, Object array, int n) {
    for (int i = 0; i < n; i++) {
      boolean ok = switch (dtype) {
        case FLOAT16 -> {
          float v = ((float[]) array)[i];
          yield Float.isNaN(v) || toFloat16(v) == v;
        }
        case BFLOAT16 -> {
          float v = ((float[]) array)[i];
          yield Float.isNaN(v) || (Float.floatToRawIntBits(v) & 0xFFFF) == 0;
        }
        case INT8, UINT8, INT16 -> inRange(dtype, ((int[]) array)[i]);
        default -> true;
      };
      if (!ok) {
        return i;
      }
    }
    return -1;
  }

  /** The IEEE binary16 bits of a float16 value {@code v} holds exactly. */
  public static short float16Bits(float v) {
    return Float.floatToFloat16(v);
  }

  /** The float a float16 bit pattern stands for. */
  public static float fromFloat16Bits(short bits) {
    return Float.float16ToFloat(bits);
  }

  /** The bfloat16 bits (the upper half of the float's bits) of a bfloat16 value {@code v} holds exactly. */
  public static short bfloat16Bits(float v) {
    return (short) (Float.floatToRawIntBits(v) >>> 16);
  }

  /** The float a bfloat16 bit pattern stands for. */
  public static float fromBfloat16Bits(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }
}
