package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Indexing operators: gathers, scatters, TopK, Trilu, OneHot, Compress, ReverseSequence. */
final class IndexMappers {
  private IndexMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("Gather", IndexMappers::gather);
    m.put("GatherElements", n -> {
      Output x = n.in(0);
      int axis = n.axis(n.attrInt("axis", 0), n.rank(x));
      n.out(n.ops.gatherNd(x, elementIndices(n, n.in(1), x, axis)));
    });
    m.put("GatherND", n -> {
      long bd = n.attrInt("batch_dims", 0);
      Output idx = n.in(1);
      if (bd == 0) {
        n.out(n.ops.gatherNd(n.in(0), idx));
        return;
      }
      // batch_dims 1: each index tuple gets its batch position in front.
      Shape s = idx.shape();
      if (bd != 1 || !s.isFullyDefined()) {
        throw n.unsupported("batch_dims " + bd + " needs to be 1 with a static index shape, got " + s);
      }
      int[] dims = s.dims().clone();
      dims[dims.length - 1] = 1;
      int count = (int) Shape.of(dims).numElements();
      long[] b = new long[count];
      int per = count / dims[0];
      for (int i = 0; i < count; i++) {
        b[i] = i / per;
      }
      Output batchIdx = n.ops.constant(Tensor.of(b, dims));
      n.out(n.ops.gatherNd(n.in(0), n.ops.concat(List.of(batchIdx, n.ops.cast(idx, DType.INT64)), dims.length - 1)));
    });
    m.put("ScatterND", n -> n.out(scatter(n, n.in(0), n.in(1), n.in(2))));
    Mapper scatterElements = n -> {
      Output x = n.in(0);
      int axis = n.axis(n.attrInt("axis", 0), n.rank(x));
      n.out(scatter(n, x, elementIndices(n, n.in(1), x, axis), n.in(2)));
    };
    m.put("ScatterElements", scatterElements);
    m.put("Scatter", scatterElements);
    m.put("TopK", IndexMappers::topK);
    m.put("Trilu", IndexMappers::trilu);
    m.put("OneHot", n -> {
      Output idx = n.in(0);
      if (idx.dtype().isFloating()) {
        idx = n.ops.cast(idx, DType.INT64); // ONNX allows any numeric indices, truncated
      }
      long depth = Node.longs(n.requireConst(1, "depth"))[0];
      Tensor values = n.requireConst(2, "values");
      Ops o = n.ops;
      Output d = o.constant(depth, idx.dtype());
      Output fixed = o.select(o.less(idx, o.constant(0, idx.dtype())), o.add(idx, d), idx);
      int axis = (int) n.attrInt("axis", -1);
      n.out(o.oneHot(fixed, Math.toIntExact(depth), axis, values.dtype(), values.getDouble(1), values.getDouble(0)));
    });
    m.put("ReverseSequence", IndexMappers::reverseSequence);
    m.put("Compress", n -> {
      Output x = n.in(0);
      boolean[] keep = n.requireConst(1, "condition").toBooleanArray();
      Output src = x;
      int axis = 0;
      if (n.hasAttr("axis")) {
        axis = n.axis(n.attrInt("axis", 0), n.rank(x));
      } else {
        src = n.ops.reshape(x, -1);
      }
      int[] idx = java.util.stream.IntStream.range(0, keep.length).filter(i -> keep[i]).toArray();
      n.out(n.ops.gather(src, n.ops.constant(Tensor.of(idx, idx.length)), axis));
    });
  }

  private static void gather(Node n) {
    Output x = n.in(0);
    Output idx = n.in(1);
    int axis = n.axis(n.attrInt("axis", 0), n.rank(x));
    n.out(n.ops.gather(x, nonNegative(n, idx, x.shape().dim(axis)), axis));
  }

  /** Indices with ONNX's negative ones (counting from the end) made non-negative. */
  static Output nonNegative(Node n, Output idx, int dim) {
    var known = n.imp.constant(idx);
    if (known.isPresent()) {
      long[] v = Node.longs(known.get());
      if (Arrays.stream(v).allMatch(i -> i >= 0)) {
        return idx;
      }
      if (dim < 0) {
        throw n.unsupported("negative indices into an axis of unknown size");
      }
      long[] fixed = Arrays.stream(v).map(i -> i < 0 ? i + dim : i).toArray();
      return n.ops.constant(Tensor.of(fixed, known.get().shape().dims()));
    }
    if (dim < 0) {
      return idx;
    }
    Ops o = n.ops;
    return o.select(o.less(idx, o.constant(0, idx.dtype())), o.add(idx, o.constant(dim, idx.dtype())), idx);
  }

  /**
   * Index tuples for GatherND/ScatterND that address, for each element of {@code idx}, the element of x
   * with idx's value on {@code axis} and the element's own position on the other axes.
   */
  static Output elementIndices(Node n, Output idx, Output x, int axis) {
    Shape s = idx.shape();
    if (!s.isFullyDefined()) {
      throw n.unsupported("needs static index shape, got " + s);
    }
    Ops o = n.ops;
    Output fixed = o.cast(nonNegative(n, idx, x.shape().dim(axis)), DType.INT64);
    int r = s.rank();
    List<Output> parts = new ArrayList<>();
    for (int k = 0; k < r; k++) {
      if (k == axis) {
        parts.add(fixed);
      } else {
        int size = s.numElements() == 0 ? 0 : (int) s.numElements();
        long[] v = new long[size];
        int[] dims = s.dims();
        for (int e = 0; e < size; e++) {
          int rem = e;
          for (int j = r - 1; j >= 0; j--) {
            if (j == k) {
              v[e] = rem % dims[j];
            }
            rem /= dims[j];
          }
        }
        parts.add(o.constant(Tensor.of(v, dims)));
      }
    }
    return o.stack(parts, r);
  }

  /** ScatterND with its reduction: none writes, add sums into data (Kiln's ScatterNd adds repeated tuples). */
  static Output scatter(Node n, Output data, Output indices, Output updates) {
    String reduction = n.attrString("reduction", "none");
    return switch (reduction) {
      case "none" -> scatterNd(n, data, indices, updates);
      case "add" -> {
        if (!data.shape().isFullyDefined()) {
          throw n.unsupported("needs a static data shape, got " + data.shape());
        }
        yield n.ops.add(data, n.ops.scatterNd(n.ops.cast(indices, DType.INT64), updates, data.shape()));
      }
      default -> throw n.unsupported("reduction '" + reduction + "' is not supported");
    };
  }

  /** data with the slices of updates written at the index tuples (which ONNX requires distinct). */
  static Output scatterNd(Node n, Output data, Output indices, Output updates) {
    Shape s = data.shape();
    if (!s.isFullyDefined()) {
      throw n.unsupported("needs a static data shape, got " + s);
    }
    Ops o = n.ops;
    Output idx = o.cast(indices, DType.INT64);
    Output written = o.scatterNd(idx, updates, s);
    Output mask = o.scatterNd(idx, o.onesLike(o.cast(updates, DType.FLOAT32)), s);
    return o.select(o.greater(mask, o.constant(0f)), written, data);
  }

  private static void topK(Node n) {
    Output x = n.in(0);
    int r = n.rank(x);
    int axis = n.axis(n.attrInt("axis", -1), r);
    long k = n.opset < 10 ? n.attrInt("k", 0) : Node.longs(n.requireConst(1, "K"))[0];
    boolean largest = n.attrInt("largest", 1) != 0;
    if (n.attrInt("sorted", 1) == 0) {
      throw n.unsupported("sorted=0 is not supported");
    }
    Ops o = n.ops;
    int[] perm = new int[r];
    Arrays.setAll(perm, i -> i);
    perm[axis] = r - 1;
    perm[r - 1] = axis;
    Output t = axis == r - 1 ? x : o.transpose(x, perm);
    if (!largest) {
      if (!x.dtype().isNumeric()) {
        throw n.unsupported("largest=0 needs a numeric input");
      }
      t = o.neg(t);
    }
    List<Output> vi = o.topK(t, Math.toIntExact(k));
    Output v = largest ? vi.get(0) : o.neg(vi.get(0));
    Output i = o.cast(vi.get(1), DType.INT64);
    if (axis != r - 1) {
      v = o.transpose(v, perm);
      i = o.transpose(i, perm);
    }
    n.out(0, v);
    n.out(1, i);
  }

  private static void trilu(Node n) {
    Output x = n.in(0);
    Shape s = x.shape();
    int r = n.rank(x);
    if (r < 2 || s.dim(r - 1) < 0 || s.dim(r - 2) < 0) {
      throw n.unsupported("needs static sizes of the last two axes, got " + s);
    }
    long k = n.has(1) ? Node.longs(n.requireConst(1, "k"))[0] : 0;
    boolean upper = n.attrInt("upper", 1) != 0;
    int rows = s.dim(r - 2);
    int cols = s.dim(r - 1);
    boolean[] keep = new boolean[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        keep[i * cols + j] = upper ? j - i >= k : j - i <= k;
      }
    }
    n.out(n.ops.select(n.ops.constant(Tensor.of(keep, rows, cols)), x, n.ops.zerosLike(x)));
  }

  private static void reverseSequence(Node n) {
    Output x = n.in(0);
    long[] lens = n.constLongs(1, "sequence_lens");
    int r = n.rank(x);
    int bAxis = n.axis(n.attrInt("batch_axis", 1), r);
    int tAxis = n.axis(n.attrInt("time_axis", 0), r);
    int batch = x.shape().dim(bAxis);
    int time = x.shape().dim(tAxis);
    if (batch < 0 || time < 0 || Math.min(bAxis, tAxis) != 0 || Math.max(bAxis, tAxis) != 1) {
      throw n.unsupported("needs batch and time as the static axes 0 and 1, got " + x.shape());
    }
    int outer = x.shape().dim(0);
    int inner = x.shape().dim(1);
    long[] idx = new long[outer * inner * 2];
    for (int i = 0; i < outer; i++) {
      for (int j = 0; j < inner; j++) {
        int b = tAxis == 0 ? j : i;
        int t = tAxis == 0 ? i : j;
        long src = t < lens[b] ? lens[b] - 1 - t : t;
        int at = (i * inner + j) * 2;
        idx[at] = tAxis == 0 ? src : b;
        idx[at + 1] = tAxis == 0 ? b : src;
      }
    }
    n.out(n.ops.gatherNd(x, n.ops.constant(Tensor.of(idx, outer, inner, 2))));
  }

}
