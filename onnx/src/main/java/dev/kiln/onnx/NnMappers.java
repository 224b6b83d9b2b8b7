package dev.kiln.onnx;

import static dev.kiln.onnx.ElementwiseMappers.c;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.Arrays;
import java.util.Map;

/** Matrix products, normalizations and softmax; convolution and pooling are in {@link ConvMappers}. */
final class NnMappers {
  private NnMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("MatMul", n -> n.out(matmul(n.ops, n.in(0), n.in(1))));
    m.put("Einsum", EinsumMapper::map);
    m.put("Det", NnMappers::det);
    m.put("Gemm", NnMappers::gemm);
    m.put("BatchNormalization", NnMappers::batchNorm);
    m.put("InstanceNormalization", NnMappers::instanceNorm);
    m.put("LayerNormalization", NnMappers::layerNorm);
    m.put("MeanVarianceNormalization", n -> {
      Output x = n.in(0);
      int[] axes = n.axes(n.attrInts("axes").orElse(new long[] {0, 2, 3}), n.rank(x));
      Ops o = n.ops;
      Output mean = o.reduceMean(x, axes, true);
      Output var = o.sub(o.reduceMean(o.square(x), axes, true), o.square(mean));
      n.out(o.div(o.sub(x, mean), o.add(o.sqrt(var), c(o, 1e-9, x))));
    });
    m.put("LRN", NnMappers::lrn);
    m.put("Softmax", n -> n.out(softmax(n, false)));
    m.put("LogSoftmax", n -> n.out(softmax(n, true)));
    m.put("Hardmax", NnMappers::hardmax);
    ConvMappers.register(m);
  }

  /** NumPy's matmul: 1-D operands get a unit axis that the result then drops. */
  static Output matmul(Ops o, Output a, Output b) {
    boolean va = a.shape().rank() == 1;
    boolean vb = b.shape().rank() == 1;
    Output y = o.matmul(va ? o.expandDims(a, 0) : a, vb ? o.expandDims(b, 1) : b);
    if (vb) {
      y = o.squeeze(y, y.shape().rank() - 1);
    }
    if (va) {
      y = o.squeeze(y, y.shape().rank() - (vb ? 1 : 2));
    }
    return y;
  }

  /** Determinants of [..., k, k] for k up to 4 by the Leibniz formula over the static permutations. */
  private static void det(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    int k = x.shape().dim(r - 1);
    if (r < 2 || k < 1 || k > 4 || x.shape().dim(r - 2) != k) {
      throw n.unsupported("needs static square matrices of size 1 to 4, got " + x.shape());
    }
    Output[][] a = new Output[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        int[] begin = new int[r];
        int[] size = new int[r];
        Arrays.fill(size, -1);
        begin[r - 2] = i;
        begin[r - 1] = j;
        size[r - 2] = 1;
        size[r - 1] = 1;
        a[i][j] = o.squeeze(o.slice(x, begin, size), r - 2, r - 1);
      }
    }
    Output sum = null;
    for (int[] perm : permutations(k)) {
      Output term = a[0][perm[0]];
      for (int i = 1; i < k; i++) {
        term = o.mul(term, a[i][perm[i]]);
      }
      sum = sum == null ? (parity(perm) ? term : o.neg(term)) : parity(perm) ? o.add(sum, term) : o.sub(sum, term);
    }
    n.out(sum);
  }

  private static java.util.List<int[]> permutations(int k) {
    java.util.List<int[]> out = new java.util.ArrayList<>();
    permute(new int[k], new boolean[k], 0, out);
    return out;
  }

  private static void permute(int[] p, boolean[] used, int at, java.util.List<int[]> out) {
    if (at == p.length) {
      out.add(p.clone());
      return;
    }
    for (int v = 0; v < p.length; v++) {
      if (!used[v]) {
        used[v] = true;
        p[at] = v;
        permute(p, used, at + 1, out);
        used[v] = false;
      }
    }
  }

  /** True for an even permutation. */
  private static boolean parity(int[] p) {
    int inversions = 0;
    for (int i = 0; i < p.length; i++) {
      for (int j = i + 1; j < p.length; j++) {
        if (p[i] > p[j]) {
          inversions++;
        }
      }
    }
    return inversions % 2 == 0;
  }

  private static void gemm(Node n) {
    Ops o = n.ops;
    Output a = n.in(0);
    Output y = o.matmul(a, n.in(1), n.attrInt("transA", 0) != 0, n.attrInt("transB", 0) != 0);
    float alpha = n.attrFloat("alpha", 1f);
    if (alpha != 1f) {
      y = o.mul(y, c(o, alpha, a));
    }
    if (n.has(2)) {
      float beta = n.attrFloat("beta", 1f);
      Output cc = n.in(2);
      y = o.add(y, beta == 1f ? cc : o.mul(cc, c(o, beta, cc)));
    }
    n.out(y);
  }

  /** A per-channel vector [C] reshaped to broadcast over x [N, C, ...] of the given rank. */
  static Output channel(Ops o, Output p, int rank) {
    int[] dims = new int[rank - 1];
    Arrays.fill(dims, 1);
    dims[0] = -1;
    return o.reshape(p, dims);
  }

  private static void batchNorm(Node n) {
    boolean training = n.attrInt("training_mode", 0) != 0;
    if (n.opset < 9 && n.attrInt("spatial", 1) == 0) {
      throw n.unsupported("non-spatial statistics are not supported");
    }
    if (!training && n.opset >= 14) {
      for (int j = 1; j < n.numOutputs(); j++) {
        if (n.wantsOutput(j)) {
          throw n.error("output " + j + " is only defined in training mode");
        }
      }
    } else if (!training && (n.wantsOutput(1) || n.wantsOutput(2) || n.wantsOutput(3) || n.wantsOutput(4))) {
      throw n.unsupported("the statistics outputs of opset " + n.opset + " training are not supported");
    }
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    double eps = n.attrFloat("epsilon", 1e-5f);
    Output scale = channel(o, n.in(1), r);
    Output bias = channel(o, n.in(2), r);
    Output mean;
    Output var;
    if (training) {
      // Batch statistics (biased variance); the running ones move towards them by 1 - momentum.
      int[] axes = new int[r - 1];
      for (int i = 0; i < r - 1; i++) {
        axes[i] = i == 0 ? 0 : i + 1;
      }
      Output bm = o.reduceMean(x, axes, false);
      Output bv = o.reduceMean(o.square(o.sub(x, channel(o, bm, r))), axes, false);
      double momentum = n.attrFloat("momentum", 0.9f);
      Output mom = c(o, momentum, x);
      Output rest = c(o, 1 - momentum, x);
      n.out(1, o.add(o.mul(n.in(3), mom), o.mul(bm, rest)));
      n.out(2, o.add(o.mul(n.in(4), mom), o.mul(bv, rest)));
      mean = channel(o, bm, r);
      var = channel(o, bv, r);
    } else {
      mean = channel(o, n.in(3), r);
      var = channel(o, n.in(4), r);
    }
    Output k = o.mul(scale, o.rsqrt(o.add(var, c(o, eps, var))));
    n.out(o.add(o.mul(o.sub(x, mean), k), bias));
  }

  private static void instanceNorm(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    int[] axes = new int[r - 2];
    Arrays.setAll(axes, i -> i + 2);
    double eps = n.attrFloat("epsilon", 1e-5f);
    Output mean = o.reduceMean(x, axes, true);
    Output d = o.sub(x, mean);
    Output var = o.reduceMean(o.square(d), axes, true);
    Output y = o.mul(d, o.rsqrt(o.add(var, c(o, eps, x))));
    n.out(o.add(o.mul(y, channel(o, n.in(1), r)), channel(o, n.in(2), r)));
  }

  private static void layerNorm(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    int axis = n.axis(n.attrInt("axis", -1), r);
    int[] axes = new int[r - axis];
    Arrays.setAll(axes, i -> i + axis);
    double eps = n.attrFloat("epsilon", 1e-5f);
    Output mean = o.reduceMean(x, axes, true);
    Output d = o.sub(x, mean);
    Output inv = o.rsqrt(o.add(o.reduceMean(o.square(d), axes, true), c(o, eps, x)));
    Output y = o.mul(o.mul(d, inv), n.in(1));
    if (n.has(2)) {
      y = o.add(y, n.in(2));
    }
    n.out(0, y);
    n.out(1, mean);
    n.out(2, inv);
  }

  private static void lrn(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    int ch = x.shape().dim(1);
    if (ch < 0) {
      throw n.unsupported("needs a static channel count, got " + x.shape());
    }
    int size = (int) n.attrInt("size", 1);
    double alpha = n.attrFloat("alpha", 1e-4f);
    double beta = n.attrFloat("beta", 0.75f);
    double bias = n.attrFloat("bias", 1f);
    int[] pads = new int[2 * r];
    pads[2] = (size - 1) / 2;
    pads[3] = size - 1 - pads[2];
    Output sq = o.pad(o.square(x), pads);
    Output sum = null;
    for (int j = 0; j < size; j++) {
      int[] begin = new int[r];
      int[] sz = new int[r];
      Arrays.fill(sz, -1);
      begin[1] = j;
      sz[1] = ch;
      Output s = o.slice(sq, begin, sz);
      sum = sum == null ? s : o.add(sum, s);
    }
    Output denom = o.pow(o.add(c(o, bias, x), o.mul(c(o, alpha / size, x), sum)), c(o, beta, x));
    n.out(o.div(x, denom));
  }

  private static Output softmax(Node n, boolean log) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    if (n.opset >= 13) {
      int axis = n.axis(n.attrInt("axis", -1), r);
      return log ? o.logSoftmax(x, axis) : o.softmax(x, axis);
    }
    // Before opset 13 the input is coerced to 2-D at axis and normalized over the second dimension.
    int axis = n.axis(n.attrInt("axis", 1), r);
    if (axis == r - 1) {
      return log ? o.logSoftmax(x, -1) : o.softmax(x, -1);
    }
    Output flat = o.reshape(x, TensorMappers.product(x.shape(), 0, axis), TensorMappers.product(x.shape(), axis, r));
    Output y = log ? o.logSoftmax(flat, -1) : o.softmax(flat, -1);
    return o.reshapeLike(y, x);
  }

  private static void hardmax(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    Shape s = x.shape();
    if (n.opset >= 13) {
      int axis = n.axis(n.attrInt("axis", -1), r);
      int d = s.dim(axis);
      if (d < 0) {
        throw n.unsupported("axis " + axis + " of " + s + " has an unknown size");
      }
      n.out(o.oneHot(o.argMax(x, axis), d, axis, x.dtype(), 1, 0));
      return;
    }
    int axis = n.axis(n.attrInt("axis", 1), r);
    int cols = TensorMappers.product(s, axis, r);
    if (cols < 0) {
      throw n.unsupported("the dimensions from axis " + axis + " of " + s + " must be static");
    }
    Output flat = o.reshape(x, -1, cols);
    n.out(o.reshapeLike(o.oneHot(o.argMax(flat, 1), cols, 1, x.dtype(), 1, 0), x));
  }

}
