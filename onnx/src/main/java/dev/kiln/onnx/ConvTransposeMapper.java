package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Arrays;

/**
 * ConvTranspose as a stride-1 convolution: the input spread out by the strides (zeros between pixels),
 * padded by the kernel's reach less the pads, convolved with the kernel flipped in space and with its
 * input and output channels exchanged per group.
 */
final class ConvTransposeMapper {
  private ConvTransposeMapper() {}

  static void map(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    Output w = n.in(1);
    int r = n.rank(x);
    if (r != 3 && r != 4) {
      throw n.unsupported("only 1-D and 2-D inputs are supported, got " + x.shape());
    }
    Shape ws = w.shape();
    Shape xs = x.shape();
    int sr = r - 2;
    for (int i = 1; i < r; i++) {
      if (xs.dim(i) < 0) {
        throw n.unsupported("needs static channel and spatial sizes, got " + xs);
      }
    }
    if (!ws.isFullyDefined()) {
      throw n.unsupported("needs a static weight shape, got " + ws);
    }
    int g = (int) n.attrInt("group", 1);
    long[] k = new long[sr];
    for (int i = 0; i < sr; i++) {
      k[i] = ws.dim(2 + i);
    }
    long[] s = attr(n, "strides", sr, 1);
    long[] d = attr(n, "dilations", sr, 1);
    long[] op = attr(n, "output_padding", sr, 0);
    String auto = n.attrString("auto_pad", "NOTSET");
    long[] pads = n.attrInts("pads").orElse(null);
    long[] outShape = n.attrInts("output_shape").orElse(null);
    if (outShape != null && outShape.length > sr) {
      outShape = Arrays.copyOfRange(outShape, outShape.length - sr, outShape.length);
    }
    if (pads == null || auto.startsWith("SAME")) {
      pads = new long[2 * sr];
      if (outShape != null || auto.startsWith("SAME")) {
        for (int i = 0; i < sr; i++) {
          long in = xs.dim(2 + i);
          long target = outShape != null ? outShape[i] : in * s[i];
          long total = s[i] * (in - 1) + op[i] + ((k[i] - 1) * d[i] + 1) - target;
          pads[i] = auto.equals("SAME_UPPER") ? Math.floorDiv(total, 2) : total - Math.floorDiv(total, 2);
          pads[i + sr] = total - pads[i];
        }
      }
    }
    if (sr == 1) {
      x = o.expandDims(x, 2);
      w = o.expandDims(w, 2);
      k = new long[] {1, k[0]};
      s = new long[] {1, s[0]};
      d = new long[] {1, d[0]};
      op = new long[] {0, op[0]};
      pads = new long[] {0, pads[0], 0, pads[1]};
    }
    int c = x.shape().dim(1);
    int h = x.shape().dim(2);
    int wd = x.shape().dim(3);
    // Spread the input: [N,C,H,1,W,1] padded to [N,C,H,s0,W,s1], then cut after the last pixel.
    Output spread = x;
    if (s[0] > 1 || s[1] > 1) {
      Output six = o.reshape(x, -1, c, h, 1, wd, 1);
      Output padded = o.pad(six, 0, 0, 0, 0, 0, 0, 0, (int) s[0] - 1, 0, 0, 0, (int) s[1] - 1);
      Output flat = o.reshape(padded, -1, c, h * (int) s[0], wd * (int) s[1]);
      spread = o.slice(flat, new int[] {0, 0, 0, 0},
          new int[] {-1, -1, (h - 1) * (int) s[0] + 1, (wd - 1) * (int) s[1] + 1});
    }
    // Filter HWIO [kh, kw, C/g, M] from W [C, M/g, kh, kw], flipped in space.
    int cg = c / g;
    int mg = ws.dim(1);
    Output f = o.reshape(w, g, cg, mg, (int) k[0], (int) k[1]);
    f = o.reshape(o.transpose(f, 3, 4, 1, 0, 2), (int) k[0], (int) k[1], cg, g * mg);
    f = o.gather(o.gather(f, reversed(o, (int) k[0]), 0), reversed(o, (int) k[1]), 1);
    int[] explicit = new int[4];
    int[] crop = new int[4];
    for (int i = 0; i < 2; i++) {
      long reach = (k[i] - 1) * d[i];
      long before = reach - pads[i];
      long after = reach - pads[i + 2] + op[i];
      explicit[2 * i] = (int) Math.max(0, before);
      explicit[2 * i + 1] = (int) Math.max(0, after);
      crop[2 * i] = (int) Math.max(0, -before);
      crop[2 * i + 1] = (int) Math.max(0, -after);
    }
    Output y = o.conv2d(spread, f, new int[] {1, 1}, "EXPLICIT", Node.ints(d), explicit, "NCHW");
    if (Arrays.stream(crop).anyMatch(v -> v > 0)) {
      Shape ys = y.shape();
      y = o.slice(y, new int[] {0, 0, crop[0], crop[2]},
          new int[] {-1, -1, ys.dim(2) - crop[0] - crop[1], ys.dim(3) - crop[2] - crop[3]});
    }
    if (n.has(2)) {
      y = o.biasAdd(y, n.in(2), "NCHW");
    }
    n.out(sr == 1 ? o.squeeze(y, 2) : y);
  }

  private static Output reversed(Ops o, int len) {
    int[] idx = new int[len];
    Arrays.setAll(idx, i -> len - 1 - i);
    return o.constant(Tensor.of(idx, len));
  }

  private static long[] attr(Node n, String name, int count, long dflt) {
    return n.attrInts(name).orElseGet(() -> {
      long[] a = new long[count];
      Arrays.fill(a, dflt);
      return a;
    });
  }
}
