package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;

/**
 * GridSample (4-D, static shapes) as PyTorch's grid_sample computes it: grid coordinates unnormalized to
 * pixels, the padding mode applied to coordinates (border, reflection) or to taps (zeros), and the taps read
 * with GatherND from the input in NHWC order, weighted (bilinear, bicubic) or rounded half to even (nearest).
 */
final class GridSampleMapper {
  private GridSampleMapper() {}

  private record Ctx(Ops o, Output xt, Output batch, int h, int w, String padding, boolean align) {}

  static void map(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    Output grid = n.in(1);
    Shape xs = x.shape();
    Shape gs = grid.shape();
    if (!xs.isFullyDefined() || !gs.isFullyDefined() || xs.rank() != 4 || gs.rank() != 4 || gs.dim(3) != 2) {
      throw n.unsupported("needs static 4-D input and grid shapes, got " + xs + " and " + gs);
    }
    String mode = n.attrString("mode", "bilinear");
    String padding = n.attrString("padding_mode", "zeros");
    boolean align = n.attrInt("align_corners", 0) != 0;
    if (!List.of("zeros", "border", "reflection").contains(padding)) {
      throw n.unsupported("padding_mode '" + padding + "' is not supported");
    }
    int nb = gs.dim(0);
    int ho = gs.dim(1);
    int wo = gs.dim(2);
    long[] b = new long[nb * ho * wo];
    for (int i = 0; i < b.length; i++) {
      b[i] = i / (ho * wo);
    }
    Ctx c = new Ctx(o, o.transpose(x, 0, 2, 3, 1), o.constant(Tensor.of(b, nb, ho, wo)), xs.dim(2), xs.dim(3),
        padding, align);
    Output gx = o.reshape(o.slice(grid, new int[] {0, 0, 0, 0}, new int[] {-1, -1, -1, 1}), nb, ho, wo);
    Output gy = o.reshape(o.slice(grid, new int[] {0, 0, 0, 1}, new int[] {-1, -1, -1, 1}), nb, ho, wo);
    Output ix = unnormalize(c, gx, c.w);
    Output iy = unnormalize(c, gy, c.h);
    Output y;
    switch (mode) {
      case "nearest" -> y = tap(c, o.round(coordinate(c, ix, c.w)), o.round(coordinate(c, iy, c.h)));
      case "bilinear" -> {
        Output px = coordinate(c, ix, c.w);
        Output py = coordinate(c, iy, c.h);
        Output x0 = o.floor(px);
        Output y0 = o.floor(py);
        Output one = k(c, 1, px);
        Output x1 = o.add(x0, one);
        Output y1 = o.add(y0, one);
        Output wx1 = o.sub(px, x0);
        Output wy1 = o.sub(py, y0);
        Output wx0 = o.sub(one, wx1);
        Output wy0 = o.sub(one, wy1);
        y = o.add(o.add(weighted(c, tap(c, x0, y0), o.mul(wx0, wy0)), weighted(c, tap(c, x1, y0), o.mul(wx1, wy0))),
            o.add(weighted(c, tap(c, x0, y1), o.mul(wx0, wy1)), weighted(c, tap(c, x1, y1), o.mul(wx1, wy1))));
      }
      case "bicubic" -> {
        Output x0 = o.floor(ix);
        Output y0 = o.floor(iy);
        Output[] cx = cubic(c, o.sub(ix, x0));
        Output[] cy = cubic(c, o.sub(iy, y0));
        Output sum = null;
        for (int j = 0; j < 4; j++) {
          Output ty = o.add(y0, k(c, j - 1, iy));
          Output row = null;
          for (int i = 0; i < 4; i++) {
            Output tx = o.add(x0, k(c, i - 1, ix));
            Output v = weighted(c, tap(c, coordinate(c, tx, c.w), coordinate(c, ty, c.h)), cx[i]);
            row = row == null ? v : o.add(row, v);
          }
          Output v = weighted(c, row, cy[j]);
          sum = sum == null ? v : o.add(sum, v);
        }
        y = sum;
      }
      default -> throw n.unsupported("mode '" + mode + "' is not supported");
    }
    n.out(o.transpose(y, 0, 3, 1, 2));
  }

  private static Output k(Ctx c, double v, Output like) {
    return c.o.constant(v, like.dtype());
  }

  private static Output unnormalize(Ctx c, Output g, int size) {
    Ops o = c.o;
    Output one = k(c, 1, g);
    return c.align ? o.mul(o.add(g, one), k(c, (size - 1) / 2.0, g))
        : o.div(o.sub(o.mul(o.add(g, one), k(c, size, g)), one), k(c, 2, g));
  }

  /** The padding mode on a coordinate: border clamps, reflection reflects then clamps, zeros leaves it. */
  private static Output coordinate(Ctx c, Output v, int size) {
    Ops o = c.o;
    switch (c.padding) {
      case "border" -> {
        return clamp(c, v, size);
      }
      case "reflection" -> {
        double lo = c.align ? 0 : -0.5;
        double span = c.align ? size - 1 : size;
        if (span <= 0) {
          return o.zerosLike(v);
        }
        Output in = o.abs(o.sub(v, k(c, lo, v)));
        Output extra = o.mod(in, k(c, span, v));
        Output flips = o.floor(o.div(in, k(c, span, v)));
        Output even = o.equal(o.mod(flips, k(c, 2, v)), k(c, 0, v));
        Output r = o.select(even, o.add(extra, k(c, lo, v)), o.add(o.sub(k(c, span, v), extra), k(c, lo, v)));
        return clamp(c, r, size);
      }
      case "zeros" -> {
        return v;
      }
      default -> throw new IllegalStateException(c.padding); // map() admits only the three modes
    }
  }

  private static Output clamp(Ctx c, Output v, int size) {
    return c.o.minimum(c.o.maximum(v, k(c, 0, v)), k(c, size - 1, v));
  }

  /** Input values at integral pixel coordinates [N,Ho,Wo], 0 outside the image: [N,Ho,Wo,C]. */
  private static Output tap(Ctx c, Output px, Output py) {
    Ops o = c.o;
    Output inside = o.logicalAnd(o.logicalAnd(o.greaterEqual(px, k(c, 0, px)), o.lessEqual(px, k(c, c.w - 1, px))),
        o.logicalAnd(o.greaterEqual(py, k(c, 0, py)), o.lessEqual(py, k(c, c.h - 1, py))));
    Output ix = o.cast(clamp(c, px, c.w), DType.INT64);
    Output iy = o.cast(clamp(c, py, c.h), DType.INT64);
    Output v = o.gatherNd(c.xt, o.stack(List.of(c.batch, iy, ix), 3));
    return o.mul(v, o.expandDims(o.cast(inside, v.dtype()), 3));
  }

  private static Output weighted(Ctx c, Output v, Output w) {
    return c.o.mul(v, c.o.expandDims(w, 3));
  }

  private static Output[] cubic(Ctx c, Output t) {
    Ops o = c.o;
    double a = -0.75;
    Output one = k(c, 1, t);
    Output u = o.sub(one, t);
    return new Output[] {conv2(c, o.add(t, one), a), conv1(c, t, a), conv1(c, u, a), conv2(c, o.add(u, one), a)};
  }

  private static Output conv1(Ctx c, Output x, double a) {
    Ops o = c.o;
    return o.add(o.mul(o.mul(o.sub(o.mul(k(c, a + 2, x), x), k(c, a + 3, x)), x), x), k(c, 1, x));
  }

  private static Output conv2(Ctx c, Output x, double a) {
    Ops o = c.o;
    return o.sub(o.mul(o.add(o.mul(o.sub(o.mul(k(c, a, x), x), k(c, 5 * a, x)), x), k(c, 8 * a, x)), x), k(c, 4 * a, x));
  }
}
