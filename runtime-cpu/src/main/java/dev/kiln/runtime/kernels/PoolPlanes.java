package dev.kiln.runtime.kernels;

import dev.kiln.graph.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 NCHW max and average pooling on the Vector API. NCHW keeps each (image, channel) plane a
 * contiguous H x W image, so a vector runs along an output row: with stride 1 a tap's inputs are one
 * load, with stride 2 they are the even or odd lanes of two loads, picked by a two-vector permute.
 * Columns whose windows the padding cuts, and other strides, run a scalar loop on the same plane. Taps
 * are combined in the order of the strided kernel (rows, then columns), so averages round alike.
 * Only loaded when {@link VectorSupport#AVAILABLE}.
 */
final class PoolPlanes {
  private PoolPlanes() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int L = F.length();
  /** Lane k of {@code a.rearrange(EVEN, b)} is lane 2k of a:b, of {@code ODD}'s lane 2k + 1. */
  private static final VectorShuffle<Float> EVEN = VectorShuffle.makeUnzip(F, 0);
  private static final VectorShuffle<Float> ODD = VectorShuffle.makeUnzip(F, 1);

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

  /** Output columns [lo, hi) of one row, a vector of columns at a time (stride 1 or 2). */
  private static void interior(ConvGeometry g, boolean max, float[] x, float[] y, int xp, int ih0, int i0, int i1,
      int yo, int lo, int hi) {
    int inW = g.inW();
    int kw = g.kw();
    int sw = g.strideW();
    FloatVector start = FloatVector.broadcast(F, max ? Float.NEGATIVE_INFINITY : 0f);
    float inv = (float) (1.0 / (Math.max(0, i1 - i0) * kw));
    for (int ow = lo; ow < hi; ow += L) {
      FloatVector acc = start;
      for (int i = i0; i < i1; i++) {
        int rowStart = xp + (ih0 + i) * inW;
        int rowEnd = rowStart + inW;
        int base = rowStart + ow * sw - g.padLeft();
        if (sw == 1) {
          for (int j = 0; j < kw; j++) {
            acc = combine(max, acc, load(x, base + j, rowEnd));
          }
        } else {
          for (int j = 0; j < kw; j += 2) {
            FloatVector a = load(x, base + j, rowEnd);
            FloatVector b = load(x, base + j + L, rowEnd);
            acc = combine(max, acc, a.rearrange(EVEN, b));
            if (j + 1 < kw) {
              acc = combine(max, acc, a.rearrange(ODD, b));
            }
          }
        }
      }
      if (!max) {
        acc = acc.mul(inv);
      }
      if (ow + L <= hi) {
        acc.intoArray(y, yo + ow);
      } else {
        acc.intoArray(y, yo + ow, F.indexInRange(ow, hi));
      }
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
