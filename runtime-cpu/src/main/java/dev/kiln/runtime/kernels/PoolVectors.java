package dev.kiln.runtime.kernels;

import dev.kiln.graph.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 NHWC max pooling and its gradient on the Vector API, a vector of channels at a time (NHWC
 * keeps a pixel's channels contiguous). The gradient finds each channel's first maximum of the window
 * as a vector of tap indices, then adds dy to each tap's channels where the index is that tap's, so it
 * neither scatters nor walks the window once per channel. Only loaded when {@link VectorSupport#AVAILABLE}.
 */
final class PoolVectors {
  private PoolVectors() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /** Output rows [r0, r1) (a row is image * outH + oh). */
  static void maxPool(ConvGeometry g, float[] x, float[] y, int r0, int r1) {
    int c = g.inC();
    int bound = F.loopBound(c);
    FloatVector lowest = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    for (int r = r0; r < r1; r++) {
      int im = r / g.outH();
      int ih0 = (r % g.outH()) * g.strideH() - g.padTop();
      int i0 = Math.max(0, -ih0);
      int i1 = Math.min(g.kh(), g.inH() - ih0);
      for (int ow = 0; ow < g.outW(); ow++) {
        int iw0 = ow * g.strideW() - g.padLeft();
        int j0 = Math.max(0, -iw0);
        int j1 = Math.min(g.kw(), g.inW() - iw0);
        int yo = (r * g.outW() + ow) * c;
        int ch = 0;
        for (; ch < bound; ch += F.length()) {
          FloatVector m = lowest;
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              m = m.max(FloatVector.fromArray(F, x, ((im * g.inH() + ih0 + i) * g.inW() + iw0 + j) * c + ch));
            }
          }
          m.intoArray(y, yo + ch);
        }
        for (; ch < c; ch++) {
          float m = Float.NEGATIVE_INFINITY;
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              m = Math.max(m, x[((im * g.inH() + ih0 + i) * g.inW() + iw0 + j) * c + ch]);
            }
          }
          y[yo + ch] = m;
        }
      }
    }
  }

  /** dx of images [n0, n1): each output's gradient goes to its window's first maximum (a NaN over a number). */
  static void maxPoolGrad(ConvGeometry g, float[] x, float[] dy, float[] dx, int n0, int n1) {
    int c = g.inC();
    int bound = F.loopBound(c);
    int image = g.inH() * g.inW() * c;
    // Windows that tile the input exactly (2x2 at stride 2 over an even size) write each dx element
    // once, zero or dy, instead of zeroing dx and then adding into it: a third of the memory traffic.
    boolean tiles = g.strideH() == g.kh() && g.strideW() == g.kw() && g.padTop() == 0 && g.padLeft() == 0
        && g.outH() * g.kh() == g.inH() && g.outW() * g.kw() == g.inW();
    if (!tiles) {
      java.util.Arrays.fill(dx, n0 * image, n1 * image, 0f);
    }
    int[] taps = new int[Math.max(1, g.kh() * g.kw())];
    FloatVector zero = FloatVector.zero(F);
    for (int im = n0; im < n1; im++) {
      for (int oh = 0; oh < g.outH(); oh++) {
        int ih0 = oh * g.strideH() - g.padTop();
        for (int ow = 0; ow < g.outW(); ow++) {
          int iw0 = ow * g.strideW() - g.padLeft();
          int count = 0;
          for (int i = Math.max(0, -ih0); i < g.kh() && ih0 + i < g.inH(); i++) {
            for (int j = Math.max(0, -iw0); j < g.kw() && iw0 + j < g.inW(); j++) {
              taps[count++] = ((im * g.inH() + ih0 + i) * g.inW() + iw0 + j) * c;
            }
          }
          if (count == 0) {
            continue;
          }
          int yo = ((im * g.outH() + oh) * g.outW() + ow) * c;
          int ch = 0;
          for (; ch < bound; ch += F.length()) {
            FloatVector best = FloatVector.fromArray(F, x, taps[0] + ch);
            FloatVector at = zero;
            for (int t = 1; t < count; t++) {
              FloatVector v = FloatVector.fromArray(F, x, taps[t] + ch);
              VectorMask<Float> better = v.compare(VectorOperators.GT, best)
                  .or(v.test(VectorOperators.IS_NAN).andNot(best.test(VectorOperators.IS_NAN)));
              best = best.blend(v, better);
              at = at.blend((float) t, better);
            }
            FloatVector d = FloatVector.fromArray(F, dy, yo + ch);
            for (int t = 0; t < count; t++) {
              VectorMask<Float> here = at.compare(VectorOperators.EQ, (float) t);
              if (tiles) {
                zero.blend(d, here).intoArray(dx, taps[t] + ch);
              } else if (here.anyTrue()) {
                FloatVector.fromArray(F, dx, taps[t] + ch).add(d, here).intoArray(dx, taps[t] + ch);
              }
            }
          }
          for (; ch < c; ch++) {
            float best = x[taps[0] + ch];
            int at = 0;
            for (int t = 1; t < count; t++) {
              float v = x[taps[t] + ch];
              if (v > best || (v != v && best == best)) {
                best = v;
                at = t;
              }
            }
            if (tiles) {
              for (int t = 0; t < count; t++) {
                dx[taps[t] + ch] = t == at ? dy[yo + ch] : 0f;
              }
            } else {
              dx[taps[at] + ch] += dy[yo + ch];
            }
          }
        }
      }
    }
  }
}
