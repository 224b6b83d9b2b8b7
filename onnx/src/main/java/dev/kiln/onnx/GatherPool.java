package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Arrays;

/**
 * Pooling of any spatial rank, with dilations and MaxPool's Indices output, on static shapes: each kernel
 * tap is the padded input gathered at constant positions along every spatial axis, and the taps are
 * combined (max, keeping the first maximum's flat index; or sum over the count of real elements).
 */
final class GatherPool {
  private GatherPool() {}

  static void pool(Node n, Output x, boolean max, long[] kernel, long[] strides, long[] dil, long[] pads, boolean ceil,
      boolean columnMajor) {
    Ops o = n.ops;
    Shape s = x.shape();
    if (!s.isFullyDefined()) {
      throw n.unsupported("needs a static input shape, got " + s);
    }
    int sr = s.rank() - 2;
    int[] out = new int[sr];
    int[] padAll = new int[2 * s.rank()];
    int[] padExplicit = new int[2 * s.rank()];
    for (int i = 0; i < sr; i++) {
      int in = s.dim(2 + i);
      long ek = (kernel[i] - 1) * dil[i] + 1;
      long span = in + pads[i] + pads[i + sr] - ek;
      long o1 = (ceil ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
      if (ceil && (o1 - 1) * strides[i] >= in + pads[i]) {
        o1--;
      }
      out[i] = (int) o1;
      long extra = Math.max(0, (o1 - 1) * strides[i] + ek - (in + pads[i] + pads[i + sr]));
      padExplicit[4 + 2 * i] = (int) pads[i];
      padExplicit[5 + 2 * i] = (int) pads[i + sr];
      padAll[4 + 2 * i] = (int) pads[i];
      padAll[5 + 2 * i] = (int) (pads[i + sr] + extra);
    }
    Output mask = o.pad(o.onesLike(x), padAll);
    Output real = o.greater(mask, o.constant(0, x.dtype()));
    Output xp = max ? o.select(real, o.pad(x, padAll), o.constant(Double.NEGATIVE_INFINITY, x.dtype())) : o.pad(x, padAll);
    Output countMask = max ? null
        : n.attrInt("count_include_pad", 0) != 0 ? o.pad(o.onesLike(o.pad(x, padExplicit)), minus(padAll, padExplicit)) : mask;
    int taps = (int) Arrays.stream(kernel).reduce(1, (a, b) -> a * b);
    Output acc = null;
    Output idxAcc = null;
    Output count = null;
    boolean indices = max && n.wantsOutput(1);
    for (int t = 0; t < taps; t++) {
      int[] tap = new int[sr];
      for (int i = sr - 1, rem = t; i >= 0; i--) {
        tap[i] = (int) (rem % kernel[i]);
        rem /= (int) kernel[i];
      }
      Output v = gather(o, xp, tap, strides, dil, out);
      if (max) {
        if (acc == null) {
          acc = v;
          idxAcc = indices ? flatIndex(o, s, tap, strides, dil, pads, out, columnMajor) : null;
        } else {
          Output better = o.greater(v, acc);
          acc = o.select(better, v, acc);
          if (indices) {
            idxAcc = o.select(better, flatIndex(o, s, tap, strides, dil, pads, out, columnMajor), idxAcc);
          }
        }
      } else {
        acc = acc == null ? v : o.add(acc, v);
        Output c = gather(o, countMask, tap, strides, dil, out);
        count = count == null ? c : o.add(count, c);
      }
    }
    n.out(0, max ? acc : o.div(acc, count));
    if (indices) {
      n.out(1, idxAcc);
    }
  }

  private static int[] minus(int[] a, int[] b) {
    int[] r = new int[a.length];
    Arrays.setAll(r, i -> a[i] - b[i]);
    return r;
  }

  private static Output gather(Ops o, Output x, int[] tap, long[] strides, long[] dil, int[] out) {
    Output y = x;
    for (int i = 0; i < tap.length; i++) {
      int[] idx = new int[out[i]];
      for (int k = 0; k < idx.length; k++) {
        idx[k] = (int) (k * strides[i] + tap[i] * dil[i]);
      }
      y = o.gather(y, o.constant(Tensor.of(idx, idx.length)), 2 + i);
    }
    return y;
  }

  /** The flat (row-major NC...) input index that each output position's tap reads: [N, C, out...]. */
  private static Output flatIndex(Ops o, Shape s, int[] tap, long[] strides, long[] dil, long[] pads, int[] out,
      boolean columnMajor) {
    int sr = out.length;
    int[] dims = new int[2 + sr];
    dims[0] = s.dim(0);
    dims[1] = s.dim(1);
    System.arraycopy(out, 0, dims, 2, sr);
    long total = Shape.of(dims).numElements();
    long[] v = new long[(int) total];
    int[] pos = new int[dims.length];
    for (int e = 0; e < total; e++) {
      for (int j = dims.length - 1, rem = e; j >= 0; j--) {
        pos[j] = rem % dims[j];
        rem /= dims[j];
      }
      long spatial = 0;
      long size = 1;
      for (int k = 0; k < sr; k++) {
        // Row-major: the last spatial axis varies fastest; column-major (storage_order 1): the first.
        int i = columnMajor ? k : sr - 1 - k;
        long at = pos[2 + i] * strides[i] + tap[i] * dil[i] - pads[i];
        spatial += at * size;
        size *= s.dim(2 + i);
      }
      v[e] = ((long) pos[0] * s.dim(1) + pos[1]) * size + spatial;
    }
    return o.constant(Tensor.of(v, dims));
  }

}
