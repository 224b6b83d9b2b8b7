package dev.kiln.runtime.kernels;

import dev.kiln.graph.ConvGeometry;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 NCHW max and average pooling on the Vector API. NCHW keeps each (image, channel) plane a
 * contiguous H x W image, so a vector runs along an output row: with stride 1 a tap's inputs are one
 * load; with stride 2 they are the even or odd floats of one load, which the load seen as longs
 * narrowed to ints (the low or, shifted, the high half of each long) gives in a half-width vector.
 * Columns whose windows the padding cuts, and other strides, run a scalar loop on the same plane. Taps
 * are combined in the order of the strided kernel (rows, then columns), so averages round alike.
 * Only loaded when {@link VectorSupport#AVAILABLE}.
 */
final class PoolPlanes {
  private PoolPlanes() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  /** Half as many lanes: a stride-2 block's outputs, one per pair of input floats. */
  private static final VectorSpecies<Integer> HALF =
      VectorSpecies.of(int.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
  private static final VectorSpecies<Float> HALF_F = HALF.withLanes(float.class);

  /** Output rows [r0, r1) of max (or average) pooling; a row is (image * C + channel) * outH + oh. */
  static void pool(ConvGeometry g, boolean max, float[] x, float[] y, int r0, int r1) {
    int sw = g.strideW();
    // Output columns [lo, hi) have their whole window inside the row.
    int lo = Math.min(g.outW(), Math.ceilDiv(g.padLeft(), sw));
    int hi = Math.max(lo, Math.min(g.outW(), Math.floorDiv(g.inW() + g.padLeft() - g.kw(), sw) + 1));
    if (sw > 2) {
      lo = hi = g.outW();
    }
    int plane = g.inH() * g.inW();
    if (max && sw == 2 && g.kw() == 2 && g.kh() == 2 && g.strideH() == 2 && g.padTop() == 0
        && 2 * g.outH() <= g.inH() && lo == 0 && hi == g.outW()) {
      maxTwoByTwo(g, x, y, r0, r1);
      return;
    }
    for (int r = r0; r < r1; r++) {
      int xp = r / g.outH() * plane;
      int ih0 = r % g.outH() * g.strideH() - g.padTop();
      int i0 = Math.max(0, -ih0);
      int i1 = Math.min(g.kh(), g.inH() - ih0);
      int yo = r * g.outW();
      for (int ow = 0; ow < lo; ow++) {
        y[yo + ow] = window(g, max, x, xp, ih0, i0, i1, ow);
      }
      if (hi > lo) {
        interior(g, max, x, y, xp, ih0, i0, i1, yo, lo, hi);
      }
      for (int ow = hi; ow < g.outW(); ow++) {
        y[yo + ow] = window(g, max, x, xp, ih0, i0, i1, ow);
      }
    }
  }

  /** One output whose window may be cut by the padding: its valid taps in row-major order. */
  private static float window(ConvGeometry g, boolean max, float[] x, int xp, int ih0, int i0, int i1, int ow) {
    int iw0 = ow * g.strideW() - g.padLeft();
    int j0 = Math.max(0, -iw0);
    int j1 = Math.min(g.kw(), g.inW() - iw0);
    float acc = max ? Float.NEGATIVE_INFINITY : 0f;
    for (int i = i0; i < i1; i++) {
      int row = xp + (ih0 + i) * g.inW() + iw0;
      for (int j = j0; j < j1; j++) {
        acc = max ? Math.max(acc, x[row + j]) : acc + x[row + j];
      }
    }
    return max ? acc : acc * (float) (1.0 / (Math.max(0, i1 - i0) * Math.max(0, j1 - j0)));
  }

  /** Output columns [lo, hi) of one row, a vector of columns at a time. */
  private static void interior(ConvGeometry g, boolean max, float[] x, float[] y, int xp, int ih0, int i0, int i1,
      int yo, int lo, int hi) {
    float inv = (float) (1.0 / (Math.max(0, i1 - i0) * g.kw()));
    if (g.strideW() == 1) {
      strideOne(g, max, x, y, xp, ih0, i0, i1, yo, lo, hi, inv);
    } else {
      strideTwo(g, max, x, y, xp, ih0, i0, i1, yo, lo, hi, inv);
    }
  }

  private static void strideOne(ConvGeometry g, boolean max, float[] x, float[] y, int xp, int ih0, int i0, int i1,
      int yo, int lo, int hi, float inv) {
    FloatVector start = FloatVector.broadcast(F, max ? Float.NEGATIVE_INFINITY : 0f);
    for (int ow = lo; ow < hi; ow += L) {
      FloatVector acc = start;
      for (int i = i0; i < i1; i++) {
        int rowStart = xp + (ih0 + i) * g.inW();
        int base = rowStart + ow - g.padLeft();
        for (int j = 0; j < g.kw(); j++) {
          acc = combine(max, acc, load(x, base + j, rowStart + g.inW()));
        }
      }
      store(max ? acc : acc.mul(inv), y, yo + ow, hi - ow);
    }
  }

  /**
   * The common 2 x 2 window of stride 2 when every window lies inside its plane: one short loop over
   * the rows that the compiler keeps in vector registers, since a row of a small plane is too short to
   * pay for a call of its own.
   */
  private static void maxTwoByTwo(ConvGeometry g, float[] x, float[] y, int r0, int r1) {
    int inW = g.inW();
    int outW = g.outW();
    int plane = g.inH() * inW;
    int half = HALF.length();
    for (int r = r0; r < r1; r++) {
      int top = r / g.outH() * plane + r % g.outH() * 2 * inW;
      int bottom = top + inW;
      int yo = r * outW;
      for (int ow = 0; ow < outW; ow += half) {
        int col = 2 * ow;
        FloatVector a;
        FloatVector b;
        if (col + L <= inW) {
          a = FloatVector.fromArray(F, x, top + col);
          b = FloatVector.fromArray(F, x, bottom + col);
        } else {
          VectorMask<Float> m = F.indexInRange(col, inW);
          a = FloatVector.fromArray(F, x, top + col, m);
          b = FloatVector.fromArray(F, x, bottom + col, m);
        }
        LongVector pairs = a.max(b).reinterpretAsLongs();
        FloatVector out = even(pairs).max(odd(pairs));
        if (ow + half <= outW) {
          out.intoArray(y, yo + ow);
        } else {
          out.intoArray(y, yo + ow, HALF_F.indexInRange(ow, outW));
        }
      }
    }
  }

  /**
   * Max takes the rows' maximum of each load first (the order of a maximum's operands does not change
   * it); a sum adds tap by tap in the strided kernel's order.
   */
  private static void strideTwo(ConvGeometry g, boolean max, float[] x, float[] y, int xp, int ih0, int i0, int i1,
      int yo, int lo, int hi, float inv) {
    int kw = g.kw();
    int half = HALF.length();
    FloatVector lowest = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    FloatVector start = FloatVector.broadcast(HALF_F, max ? Float.NEGATIVE_INFINITY : 0f);
    for (int ow = lo; ow < hi; ow += half) {
      FloatVector acc = start;
      if (max) {
        for (int j = 0; j < kw; j += 2) {
          FloatVector m = lowest;
          for (int i = i0; i < i1; i++) {
            int rowStart = xp + (ih0 + i) * g.inW();
            m = m.max(load(x, rowStart + 2 * ow - g.padLeft() + j, rowStart + g.inW()));
          }
          LongVector pairs = m.reinterpretAsLongs();
          acc = acc.max(even(pairs));
          if (j + 1 < kw) {
            acc = acc.max(odd(pairs));
          }
        }
      } else {
        for (int i = i0; i < i1; i++) {
          int rowStart = xp + (ih0 + i) * g.inW();
          for (int j = 0; j < kw; j += 2) {
            LongVector pairs = load(x, rowStart + 2 * ow - g.padLeft() + j, rowStart + g.inW()).reinterpretAsLongs();
            acc = acc.add(even(pairs));
            if (j + 1 < kw) {
              acc = acc.add(odd(pairs));
            }
          }
        }
      }
      store(max ? acc : acc.mul(inv), y, yo + ow, hi - ow);
    }
  }

  /** Whether a pair's first float is its long's low half (lanes reinterpret in the platform's byte order). */
  private static final boolean LOW_FIRST = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  /** The first float of each pair. */
  private static FloatVector even(LongVector pairs) {
    return LOW_FIRST ? low(pairs) : high(pairs);
  }

  /** The second float of each pair. */
  private static FloatVector odd(LongVector pairs) {
    return LOW_FIRST ? high(pairs) : low(pairs);
  }

  private static FloatVector low(LongVector pairs) {
    return ((IntVector) pairs.convertShape(VectorOperators.L2I, HALF, 0)).reinterpretAsFloats();
  }

  private static FloatVector high(LongVector pairs) {
    return low(pairs.lanewise(VectorOperators.LSHR, 32));
  }

  /** The first {@code n} lanes of v (all when n is at least its length) into y from offset. */
  private static void store(FloatVector v, float[] y, int offset, int n) {
    if (n >= v.length()) {
      v.intoArray(y, offset);
    } else {
      v.intoArray(y, offset, v.species().indexInRange(0, n));
    }
  }

  private static FloatVector combine(boolean max, FloatVector acc, FloatVector v) {
    return max ? acc.max(v) : acc.add(v);
  }

  /** The lanes of x from offset that lie before end (the rest zero): lanes past a row are never kept. */
  private static FloatVector load(float[] x, int offset, int end) {
    if (offset + L <= end) {
      return FloatVector.fromArray(F, x, offset);
    }
    VectorMask<Float> m = F.indexInRange(offset, end);
    return FloatVector.fromArray(F, x, offset, m);
  }
}
