package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.Arrays;

/**
 * Pad: constant padding through Kiln's zero Pad (plus a mask for other values), negative pads through
 * Slice, and edge/reflect/wrap modes through Gather with constant index lists.
 */
final class PadMapper {
  private PadMapper() {}

  static void pad(Node n) {
    Output x = n.in(0);
    int r = n.rank(x);
    long[] pads;
    String mode = n.attrString("mode", "constant");
    Tensor value;
    if (n.opset < 11) {
      pads = n.attrInts("pads").orElseThrow(() -> n.error("attribute 'pads' is missing"));
      value = Tensor.scalar((double) n.attrFloat("value", 0f));
    } else {
      pads = n.constLongs(1, "pads");
      value = n.has(2) ? n.requireConst(2, "constant_value") : Tensor.scalar(0.0);
      if (n.has(3)) {
        int[] axes = n.axes(n.constLongs(3, "axes"), r);
        long[] full = new long[2 * r];
        for (int i = 0; i < axes.length; i++) {
          full[axes[i]] = pads[i];
          full[axes[i] + r] = pads[i + axes.length];
        }
        pads = full;
      }
    }
    if (pads.length != 2 * r) {
      throw n.error("pads has " + pads.length + " entries, rank " + r + " needs " + 2 * r);
    }
    Ops o = n.ops;
    // Negative pads crop first.
    int[] begin = new int[r];
    int[] size = new int[r];
    Arrays.fill(size, -1);
    boolean crop = false;
    for (int i = 0; i < r; i++) {
      if (pads[i] < 0 || pads[i + r] < 0) {
        int d = x.shape().dim(i);
        if (d < 0) {
          throw n.unsupported("negative pads on axis " + i + " of unknown size");
        }
        begin[i] = (int) Math.max(0, -pads[i]);
        size[i] = (int) (d - begin[i] - Math.max(0, -pads[i + r]));
        crop = true;
      }
    }
    Output y = crop ? o.slice(x, begin, size) : x;
    int[] p = new int[2 * r];
    boolean any = false;
    for (int i = 0; i < r; i++) {
      p[2 * i] = (int) Math.max(0, pads[i]);
      p[2 * i + 1] = (int) Math.max(0, pads[i + r]);
      any |= p[2 * i] != 0 || p[2 * i + 1] != 0;
    }
    if (!any) {
      n.out(y == x ? o.identity(x) : y);
      return;
    }
    switch (mode) {
      case "constant" -> {
        Output padded = o.pad(y, p);
        double v = value.getDouble(0);
        if (v != 0) {
          Output mask = o.pad(o.onesLike(y), p);
          padded = o.select(o.greater(mask, o.constant(0, y.dtype())), padded, o.constant(v, y.dtype()));
        }
        n.out(padded);
      }
      case "edge", "reflect", "wrap" -> {
        for (int i = 0; i < r; i++) {
          if (p[2 * i] == 0 && p[2 * i + 1] == 0) {
            continue;
          }
          int d = y.shape().dim(i);
          if (d < 0) {
            throw n.unsupported("mode '" + mode + "' on axis " + i + " of unknown size");
          }
          int len = d + p[2 * i] + p[2 * i + 1];
          int[] idx = new int[len];
          for (int k = 0; k < len; k++) {
            idx[k] = source(mode, k - p[2 * i], d);
          }
          y = o.gather(y, o.constant(Tensor.of(idx, len)), i);
        }
        n.out(y);
      }
      default -> throw n.unsupported("mode '" + mode + "' is not supported");
    }
  }

  /** The input position that padded position j (relative to the input's start) copies. */
  private static int source(String mode, int j, int d) {
    return switch (mode) {
      case "edge" -> Math.max(0, Math.min(d - 1, j));
      case "wrap" -> Math.floorMod(j, d);
      default -> {
        if (d == 1) {
          yield 0;
        }
        int period = 2 * (d - 1);
        int m = Math.floorMod(j, period);
        yield m < d ? m : period - m;
      }
    };
  }

}
