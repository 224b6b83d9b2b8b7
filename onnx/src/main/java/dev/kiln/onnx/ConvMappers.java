package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.Arrays;
import java.util.Map;

/**
 * Convolution and pooling over NCHW tensors onto Kiln's 2-D NCHW ops; 1-D ones run as 2-D with a unit
 * height. Explicit and SAME_LOWER padding become explicit pads, pooling pads a Pad node (with a mask
 * for max and for averages that exclude the padding).
 */
final class ConvMappers {
  private ConvMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("Conv", ConvMappers::conv);
    m.put("ConvInteger", ConvMappers::convInteger);
    m.put("QLinearConv", ConvMappers::qlinearConv);
    m.put("ConvTranspose", ConvTransposeMapper::map);
    m.put("GridSample", GridSampleMapper::map);
    m.put("MaxPool", n -> pool(n, true));
    m.put("AveragePool", n -> pool(n, false));
    m.put("MaxUnpool", ConvMappers::maxUnpool);
    m.put("GlobalAveragePool", n -> n.out(n.ops.reduceMean(n.in(0), spatial(n), true)));
    m.put("GlobalMaxPool", n -> n.out(n.ops.reduceMax(n.in(0), spatial(n), true)));
  }

  private static int[] spatial(Node n) {
    int r = n.rank(n.in(0));
    int[] a = new int[r - 2];
    Arrays.setAll(a, i -> i + 2);
    return a;
  }

  /** The spatial rank (1 or 2) of an NCHW-like input, or an unsupported error. */
  private static int spatialRank(Node n, Output x) {
    int r = n.rank(x);
    if (r != 3 && r != 4) {
      throw n.unsupported("only 1-D and 2-D inputs are supported, got rank " + r + " (" + x.shape() + ")");
    }
    return r - 2;
  }

  private static long[] attrOr(Node n, String name, int count, long dflt) {
    return n.attrInts(name).orElseGet(() -> {
      long[] a = new long[count];
      Arrays.fill(a, dflt);
      return a;
    });
  }

  /** Begin/end pads per spatial axis ({b0, b1, e0, e1} as ONNX) from pads or auto_pad. */
  private static long[] pads(Node n, Shape x, int sr, long[] kernel, long[] strides, long[] dil) {
    String auto = n.attrString("auto_pad", "NOTSET");
    long[] pads = attrOr(n, "pads", 2 * sr, 0);
    switch (auto) {
      case "NOTSET" -> {
        return pads;
      }
      case "VALID" -> {
        return new long[2 * sr];
      }
      case "SAME_UPPER", "SAME_LOWER" -> {
        long[] p = new long[2 * sr];
        for (int i = 0; i < sr; i++) {
          int in = x.dim(2 + i);
          if (in < 0) {
            throw n.unsupported("auto_pad " + auto + " needs static spatial sizes, got " + x);
          }
          long out = (in + strides[i] - 1) / strides[i];
          long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in);
          long small = total / 2;
          p[i] = auto.equals("SAME_UPPER") ? small : total - small;
          p[i + sr] = total - p[i];
        }
        return p;
      }
      default -> throw n.error("auto_pad '" + auto + "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
    }
  }

  private static void conv(Node n) {
    Output y = conv(n, n.in(0), n.in(1));
    n.out(n.has(2) ? n.ops.biasAdd(y, n.in(2), "NCHW") : y);
  }

  /**
   * ConvInteger: the convolution of the zero-point-shifted operands, exact in float64 (products and
   * sums of 8-bit values stay far below 2^53), as int32.
   */
  private static void convInteger(Node n) {
    n.out(n.ops.cast(integerConv(n, 0, 1, 2, 3), DType.INT32));
  }

  /** Inputs {@code ix} and {@code iw} less the zero points {@code izx}, {@code izw} (if present), convolved in float64. */
  private static Output integerConv(Node n, int ix, int iw, int izx, int izw) {
    Ops o = n.ops;
    Output x = o.cast(n.in(ix), DType.INT32);
    Output w = o.cast(n.in(iw), DType.INT32);
    if (n.has(izx)) {
      x = o.sub(x, o.cast(n.in(izx), DType.INT32));
    }
    if (n.has(izw)) {
      Output zw = o.cast(n.in(izw), DType.INT32);
      // A 1-D zero point of w holds one value per output channel (w's axis 0).
      w = o.sub(w, zw.shape().rank() == 1 ? o.reshape(zw, -1, 1, 1, 1) : zw);
    }
    return conv(n, o.cast(x, DType.FLOAT64), o.cast(w, DType.FLOAT64));
  }

  /**
   * QLinearConv (x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B): the
   * exact integer convolution plus the int32 bias, rescaled by x_scale * w_scale / y_scale (w_scale per
   * output channel when 1-D), rounded half to even, shifted by y's zero point and saturated.
   */
  private static void qlinearConv(Node n) {
    Ops o = n.ops;
    DType to = n.in(7).dtype();
    if (to != DType.UINT8 && to != DType.INT8) {
      throw n.unsupported("y_zero_point of type " + to.shortName() + " (quantization supports uint8 and int8)");
    }
    Output acc = integerConv(n, 0, 3, 2, 5);
    if (n.has(8)) {
      acc = o.add(acc, o.reshape(o.cast(n.in(8), DType.FLOAT64), 1, -1, 1, 1));
    }
    Output ws = o.cast(n.in(4), DType.FLOAT64);
    if (ws.shape().rank() == 1) {
      ws = o.reshape(ws, 1, -1, 1, 1);
    }
    Output scale = o.div(o.mul(o.cast(n.in(1), DType.FLOAT64), ws), o.cast(n.in(6), DType.FLOAT64));
    Output q = o.add(o.round(o.mul(acc, scale)), o.cast(n.in(7), DType.FLOAT64));
    n.out(o.cast(to == DType.UINT8 ? o.clip(q, 0, 255) : o.clip(q, -128, 127), to));
  }

  /** ONNX Conv of x and w (NCHW, OIHW) without bias: padding, strides and dilations from the node. */
  private static Output conv(Node n, Output x, Output w) {
    Ops o = n.ops;
    int sr = spatialRank(n, x);
    Shape ws = w.shape();
    if (!ws.isFullyDefined()) {
      throw n.unsupported("needs a static weight shape, got " + ws);
    }
    long[] kernel = new long[sr];
    for (int i = 0; i < sr; i++) {
      kernel[i] = ws.dim(2 + i);
    }
    long[] strides = attrOr(n, "strides", sr, 1);
    long[] dil = attrOr(n, "dilations", sr, 1);
    long[] p = pads(n, x.shape(), sr, kernel, strides, dil);
    if (sr == 1) {
      x = o.expandDims(x, 2);
      w = o.expandDims(w, 2);
      strides = new long[] {1, strides[0]};
      dil = new long[] {1, dil[0]};
      p = new long[] {0, p[0], 0, p[1]};
    }
    Output filter = o.transpose(w, 2, 3, 1, 0);
    int[] explicit = {(int) p[0], (int) p[2], (int) p[1], (int) p[3]};
    Output y = o.conv2d(x, filter, Node.ints(strides), "EXPLICIT", Node.ints(dil), explicit, "NCHW");
    return sr == 1 ? o.squeeze(y, 2) : y;
  }

  /** MaxUnpool: X's values written at their flat indices I into zeros of the output shape. */
  private static void maxUnpool(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    Shape xs = x.shape();
    if (!xs.isFullyDefined()) {
      throw n.unsupported("needs a static input shape, got " + xs);
    }
    int sr = xs.rank() - 2;
    // The indices address the tensor the pooling read (the inferred shape); a given output_shape pads its end.
    long[] kernel = n.attrInts("kernel_shape").orElseThrow(() -> n.error("attribute 'kernel_shape' is missing"));
    long[] strides = attrOr(n, "strides", sr, 1);
    long[] pads = attrOr(n, "pads", 2 * sr, 0);
    int[] inferred = xs.dims().clone();
    for (int i = 0; i < sr; i++) {
      inferred[2 + i] = (int) ((xs.dim(2 + i) - 1) * strides[i] + kernel[i] - pads[i] - pads[i + sr]);
    }
    int total = Math.toIntExact(Shape.of(inferred).numElements());
    Output idx = o.reshape(o.cast(n.in(1), dev.kiln.graph.DType.INT64), -1, 1);
    Output y = o.reshape(o.scatterNd(idx, o.reshape(x, -1), Shape.of(total)), inferred);
    if (n.has(2)) {
      int[] out = Node.ints(n.constLongs(2, "output_shape"));
      int[] p = new int[2 * out.length];
      for (int i = 0; i < out.length; i++) {
        p[2 * i + 1] = out[i] - inferred[i];
        if (p[2 * i + 1] < 0) {
          throw n.error("output_shape " + Arrays.toString(out) + " is smaller than the unpooled " + Arrays.toString(inferred));
        }
      }
      y = o.pad(y, p);
    }
    n.out(y);
  }

  private static void pool(Node n, boolean max) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    if (r < 3) {
      throw n.error("needs an input of rank 3 or more, got " + x.shape());
    }
    int sr = r - 2;
    long[] kernel = n.attrInts("kernel_shape").orElseThrow(() -> n.error("attribute 'kernel_shape' is missing"));
    long[] strides = attrOr(n, "strides", sr, 1);
    long[] dil = attrOr(n, "dilations", sr, 1);
    long[] p = pads(n, x.shape(), sr, kernel, strides, dil);
    boolean ceil = n.attrInt("ceil_mode", 0) != 0;
    if (sr > 2 || n.wantsOutput(1) || Arrays.stream(dil).anyMatch(d -> d != 1)) {
      GatherPool.pool(n, x, max, kernel, strides, dil, p, ceil, n.attrInt("storage_order", 0) != 0);
      return;
    }
    if (sr == 1) {
      x = o.expandDims(x, 2);
      kernel = new long[] {1, kernel[0]};
      strides = new long[] {1, strides[0]};
      p = new long[] {0, p[0], 0, p[1]};
    }
    // Kiln pads as (before, after) per axis over N, C, H, W.
    int[] pad = new int[8];
    int[] extra = new int[8];
    boolean padded = false;
    for (int i = 0; i < 2; i++) {
      pad[4 + 2 * i] = (int) p[i];
      pad[5 + 2 * i] = (int) p[i + 2];
      if (ceil) {
        int in = x.shape().dim(2 + i);
        if (in < 0) {
          throw n.unsupported("ceil_mode needs static spatial sizes, got " + x.shape());
        }
        long span = in + p[i] + p[i + 2] - kernel[i];
        long outCeil = (span + strides[i] - 1) / strides[i] + 1;
        // The last window must start inside the input or its leading padding.
        if ((outCeil - 1) * strides[i] >= in + p[i]) {
          outCeil--;
        }
        extra[5 + 2 * i] = (int) Math.max(0, (outCeil - 1) * strides[i] + kernel[i] - (in + p[i] + p[i + 2]));
      }
    }
    int[] all = new int[8];
    for (int i = 0; i < 8; i++) {
      all[i] = pad[i] + extra[i];
      padded |= all[i] != 0;
    }
    int[] k = Node.ints(kernel);
    int[] s = Node.ints(strides);
    if (max) {
      // Kiln's MaxPool takes floats: 8- and 16-bit integers are exact in float32, int32 in float64.
      DType d = x.dtype();
      boolean integer = d.isInteger() && d != DType.INT64;
      Output in = integer ? o.cast(x, d == DType.INT32 ? DType.FLOAT64 : DType.FLOAT32) : x;
      if (padded) {
        Output mask = o.pad(o.onesLike(in), all);
        in = o.select(o.greater(mask, c(o, 0, in)), o.pad(in, all), c(o, Double.NEGATIVE_INFINITY, in));
      }
      Output y = o.maxPool(in, k, s, "VALID", "NCHW");
      if (integer) {
        y = o.cast(y, d);
      }
      n.out(sr == 1 ? o.squeeze(y, 2) : y);
      return;
    }
    Output y;
    if (!padded) {
      y = o.avgPool(x, k, s, "VALID", "NCHW");
    } else {
      boolean include = n.attrInt("count_include_pad", 0) != 0;
      Output sum = o.avgPool(o.pad(x, all), k, s, "VALID", "NCHW");
      Output mask = include ? o.pad(o.onesLike(o.pad(x, pad)), extra) : o.pad(o.onesLike(x), all);
      y = o.div(sum, o.avgPool(mask, k, s, "VALID", "NCHW"));
    }
    n.out(sr == 1 ? o.squeeze(y, 2) : y);
  }

  private static Output c(Ops o, double v, Output like) {
    return ElementwiseMappers.c(o, v, like);
  }
}
