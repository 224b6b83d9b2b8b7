package dev.kiln.runtime;

import dev.kiln.graph.DType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Arrays;

/**
 * Independent references for the narrow dtypes: the nearest float16 / bfloat16 found by exact
 * BigDecimal comparison against every finite value of the format (ties to the even bit pattern,
 * past the largest finite value by half an ulp or more, infinity), and integer wrap-around by
 * BigInteger arithmetic modulo 2^bits.
 */
final class NarrowOracle {
  private NarrowOracle() {}

  /** The positive values of a 16-bit format by bit pattern, 0 up to the infinity pattern (standing for 2^(emax+1)). */
  private static final BigDecimal[] HALF = values(0x7C00, b -> (double) Float.float16ToFloat((short) b), 65536.0);
  private static final BigDecimal[] BF16 = values(0x7F80, b -> (double) Float.intBitsToFloat(b << 16), 0x1p128);

  private static BigDecimal[] values(int infBits, java.util.function.IntToDoubleFunction decode, double inf) {
    BigDecimal[] v = new BigDecimal[infBits + 1];
    for (int b = 0; b < infBits; b++) {
      v[b] = new BigDecimal(decode.applyAsDouble(b));
    }
    v[infBits] = new BigDecimal(inf);
    return v;
  }

  /** The float16 (or bfloat16) nearest to exact value {@code x}, as a float. */
  static float nearest(DType d, double x) {
    if (Double.isNaN(x)) {
      return Float.NaN;
    }
    if (Double.isInfinite(x)) {
      return (float) x;
    }
    BigDecimal[] table = d == DType.FLOAT16 ? HALF : BF16;
    BigDecimal a = new BigDecimal(x).abs();
    int bits;
    if (a.compareTo(table[table.length - 1]) >= 0) {
      bits = table.length - 1;
    } else {
      int i = Arrays.binarySearch(table, a);
      if (i >= 0) {
        bits = i;
      } else {
        int hi = -i - 1;
        int lo = hi - 1;
        int c = a.subtract(table[lo]).compareTo(table[hi].subtract(a));
        bits = c < 0 ? lo : c > 0 ? hi : (lo % 2 == 0 ? lo : hi);
      }
    }
    float v = bits == table.length - 1 ? Float.POSITIVE_INFINITY
        : d == DType.FLOAT16 ? Float.float16ToFloat((short) bits) : Float.intBitsToFloat(bits << 16);
    return (x < 0 || (x == 0 && 1 / x < 0)) ? -v : v;
  }

  /** {@code v} modulo 2^bits of {@code d} (i8, u8, i16), as that type's value. */
  static int wrap(DType d, BigInteger v) {
    int bits = d == DType.INT16 ? 16 : 8;
    BigInteger m = BigInteger.ONE.shiftLeft(bits);
    BigInteger r = v.mod(m);
    if (d != DType.UINT8 && r.testBit(bits - 1)) {
      r = r.subtract(m);
    }
    return r.intValueExact();
  }

  /** A float truncated toward zero to a long, saturating (NaN 0), then wrapped into {@code d}. */
  static int truncateAndWrap(DType d, double x) {
    if (Double.isNaN(x)) {
      return 0;
    }
    BigInteger t = Double.isInfinite(x) ? BigInteger.valueOf(x > 0 ? Long.MAX_VALUE : Long.MIN_VALUE)
        : new BigDecimal(x).setScale(0, RoundingMode.DOWN).toBigInteger()
            .max(BigInteger.valueOf(Long.MIN_VALUE)).min(BigInteger.valueOf(Long.MAX_VALUE));
    return wrap(d, t);
  }
}
