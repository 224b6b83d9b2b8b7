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

/** Shape, layout, indexing and constant-producing operators. */
final class TensorMappers {
  private TensorMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("Constant", TensorMappers::constant);
    m.put("Shape", TensorMappers::shape);
    m.put("Size", n -> {
      Shape s = n.in(0).shape();
      if (!s.isFullyDefined()) {
        throw n.unsupported("input shape " + s + " is not static");
      }
      n.out(n.ops.constant(Tensor.scalar(s.numElements())));
    });
    m.put("Reshape", TensorMappers::reshape);
    m.put("Flatten", TensorMappers::flatten);
    m.put("Squeeze", TensorMappers::squeeze);
    m.put("Unsqueeze", TensorMappers::unsqueeze);
    m.put("Transpose", n -> {
      Output x = n.in(0);
      int r = n.rank(x);
      int[] perm = n.attrInts("perm").map(Node::ints).orElseGet(() -> {
        int[] p = new int[r];
        Arrays.setAll(p, i -> r - 1 - i);
        return p;
      });
      n.out(n.ops.transpose(x, perm));
    });
    m.put("Concat", n -> {
      List<Output> xs = n.inputs();
      n.out(n.ops.concat(xs, n.axis(n.attrInt("axis", 0), n.rank(xs.get(0)))));
    });
    m.put("Split", TensorMappers::split);
    m.put("Slice", TensorMappers::slice);
    m.put("Gather", TensorMappers::gather);
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
    m.put("Expand", n -> {
      Output x = n.in(0);
      long[] target = n.constLongs(1, "shape");
      Shape t = Shape.of(Node.ints(target));
      n.out(n.ops.broadcastTo(x, Shape.broadcast(x.shape(), t)));
    });
    m.put("Tile", n -> n.out(n.ops.tile(n.in(0), Node.ints(n.constLongs(1, "repeats")))));
    m.put("Pad", PadMapper::pad);
    m.put("ConstantOfShape", n -> {
      int[] dims = Node.ints(n.constLongs(0, "shape"));
      Tensor v = n.attrTensor("value").orElse(Tensor.of(new float[] {0f}, 1));
      Output scalar = n.ops.constant(v.size() == 1 ? oneElement(v) : v);
      n.out(n.ops.fill(Shape.of(dims), scalar));
    });
    m.put("Range", n -> {
      Tensor start = n.requireConst(0, "start");
      Tensor limit = n.requireConst(1, "limit");
      Tensor delta = n.requireConst(2, "delta");
      n.out(n.ops.range(start.getDouble(0), limit.getDouble(0), delta.getDouble(0), start.dtype()));
    });
    m.put("CumSum", n -> {
      Output x = n.in(0);
      int axis = n.axis(Node.longs(n.requireConst(1, "axis"))[0], n.rank(x));
      n.out(n.ops.cumsum(x, axis, n.attrInt("exclusive", 0) != 0, n.attrInt("reverse", 0) != 0));
    });
    m.put("TopK", TensorMappers::topK);
    m.put("Trilu", TensorMappers::trilu);
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
    m.put("Dropout", n -> {
      boolean training = n.has(2) && n.requireConst(2, "training_mode").toBooleanArray()[0];
      double ratio = !training ? 0 : n.has(1) ? n.requireConst(1, "ratio").getDouble(0) : 0.5;
      if (ratio != 0) {
        throw n.unsupported("training mode with a non-zero ratio is not supported (dropout imports for inference)");
      }
      Output x = n.in(0);
      n.out(0, n.ops.identity(x));
      if (n.wantsOutput(1)) {
        n.out(1, n.ops.cast(n.ops.onesLike(x), DType.BOOL));
      }
    });
    m.put("EyeLike", n -> {
      Shape s = n.in(0).shape();
      if (!s.isFullyDefined() || s.rank() != 2) {
        throw n.unsupported("needs a static 2-D input shape, got " + s);
      }
      DType d = n.hasAttr("dtype") ? Tensors.dtype((int) n.attrInt("dtype", 1), n.label()) : n.in(0).dtype();
      long k = n.attrInt("k", 0);
      double[] v = new double[s.dim(0) * s.dim(1)];
      for (int i = 0; i < s.dim(0); i++) {
        long j = i + k;
        if (j >= 0 && j < s.dim(1)) {
          v[i * s.dim(1) + (int) j] = 1;
        }
      }
      n.out(n.ops.cast(n.ops.constant(Tensor.of(v, s.dims())), d));
    });
    m.put("Resize", ResizeMapper::resize);
    m.put("ReverseSequence", TensorMappers::reverseSequence);
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
    m.put("Upsample", ResizeMapper::upsample);
    m.put("DepthToSpace", n -> n.out(depthToSpace(n)));
    m.put("SpaceToDepth", n -> n.out(spaceToDepth(n)));
  }

  static Tensor oneElement(Tensor v) {
    return switch (v.dtype()) {
      case FLOAT32 -> Tensor.scalar(v.toFloatArray()[0]);
      case FLOAT64 -> Tensor.scalar(v.toDoubleArray()[0]);
      case INT32 -> Tensor.scalar(v.toIntArray()[0]);
      case INT64 -> Tensor.scalar(v.toLongArray()[0]);
      case BOOL -> Tensor.scalar(v.toBooleanArray()[0]);
    };
  }

  private static void constant(Node n) {
    Ops o = n.ops;
    if (n.hasAttr("value")) {
      n.out(o.constant(n.attrTensor("value").orElseThrow()));
    } else if (n.hasAttr("value_float")) {
      n.out(o.constant(Tensor.scalar(n.attrFloat("value_float", 0f))));
    } else if (n.hasAttr("value_floats")) {
      float[] f = n.attrFloats("value_floats").orElseThrow();
      n.out(o.constant(Tensor.of(f, f.length)));
    } else if (n.hasAttr("value_int")) {
      n.out(o.constant(Tensor.scalar(n.attrInt("value_int", 0))));
    } else if (n.hasAttr("value_ints")) {
      long[] v = n.attrInts("value_ints").orElseThrow();
      n.out(o.constant(Tensor.of(v, v.length)));
    } else {
      throw n.unsupported("only tensor, float and int values are supported (not sparse or string ones)");
    }
  }

  private static void shape(Node n) {
    Shape s = n.in(0).shape();
    if (!s.hasKnownRank()) {
      throw n.unsupported("input has an unknown rank");
    }
    int r = s.rank();
    int start = clampAxis(n.attrInt("start", 0), r);
    int end = clampAxis(n.attrInt("end", r), r);
    long[] dims = new long[Math.max(0, end - start)];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = s.dim(start + i);
      if (dims[i] < 0) {
        throw n.unsupported("dimension " + (start + i) + " of the input shape " + s
            + " is unknown until run time, and Kiln needs shapes computed at import");
      }
    }
    n.out(n.ops.constant(Tensor.of(dims, dims.length)));
  }

  private static int clampAxis(long a, int r) {
    long v = a < 0 ? a + r : a;
    return (int) Math.max(0, Math.min(r, v));
  }

  private static void reshape(Node n) {
    Output x = n.in(0);
    long[] target = n.constLongs(1, "shape");
    boolean allowZero = n.attrInt("allowzero", 0) != 0;
    int[] dims = new int[target.length];
    for (int i = 0; i < dims.length; i++) {
      if (target[i] == 0 && !allowZero) {
        if (!x.shape().hasKnownRank() || i >= x.shape().rank()) {
          throw n.error("shape entry " + i + " is 0 (copy) but the input " + x.shape() + " has no such dimension");
        }
        dims[i] = x.shape().dim(i);
      } else {
        dims[i] = Math.toIntExact(Math.max(-1, target[i]));
      }
    }
    n.out(n.ops.reshape(x, dims));
  }

  private static void flatten(Node n) {
    Output x = n.in(0);
    int r = n.rank(x);
    long a = n.attrInt("axis", 1);
    int axis = (int) (a < 0 ? a + r : a);
    if (axis < 0 || axis > r) {
      throw n.error("axis " + a + " is out of range for rank " + r);
    }
    n.out(n.ops.reshape(x, product(x.shape(), 0, axis), product(x.shape(), axis, r)));
  }

  /** The product of dims [from, to), or -1 when one of them is unknown. */
  static int product(Shape s, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      if (s.dim(i) < 0) {
        return -1;
      }
      p *= s.dim(i);
    }
    return Math.toIntExact(p);
  }

  private static long[] axesInput(Node n, int input, String attr, int sinceOpset) {
    if (n.opset < sinceOpset) {
      return n.attrInts(attr).orElse(new long[0]);
    }
    return n.has(input) ? n.constLongs(input, attr) : new long[0];
  }

  private static void squeeze(Node n) {
    Output x = n.in(0);
    long[] axes = axesInput(n, 1, "axes", 13);
    if (axes.length == 0) {
      n.out(n.ops.squeeze(x));
    } else {
      n.out(n.ops.squeeze(x, n.axes(axes, n.rank(x))));
    }
  }

  private static void unsqueeze(Node n) {
    Output x = n.in(0);
    long[] axes = axesInput(n, 1, "axes", 13);
    int r = n.rank(x) + axes.length;
    int[] a = n.axes(axes, r);
    Arrays.sort(a);
    Output y = x;
    for (int axis : a) {
      y = n.ops.expandDims(y, axis);
    }
    n.out(y == x ? n.ops.identity(x) : y);
  }

  private static void split(Node n) {
    Output x = n.in(0);
    int axis = n.axis(n.attrInt("axis", 0), n.rank(x));
    long[] sizes = n.opset < 13 ? n.attrInts("split").orElse(new long[0])
        : n.has(1) ? n.constLongs(1, "split") : new long[0];
    List<Output> parts;
    if (sizes.length > 0) {
      parts = n.ops.split(x, Node.ints(sizes), axis);
    } else {
      int k = n.numOutputs();
      int d = x.shape().dim(axis);
      if (d >= 0 && d % k != 0 && n.hasAttr("num_outputs")) {
        // Opset 18: the last part is smaller when the size does not divide.
        int each = (d + k - 1) / k;
        int[] s = new int[k];
        Arrays.fill(s, each);
        s[k - 1] = d - each * (k - 1);
        parts = n.ops.split(x, s, axis);
      } else {
        parts = n.ops.split(x, k, axis);
      }
    }
    for (int j = 0; j < parts.size(); j++) {
      n.out(j, parts.get(j));
    }
  }

  private static void slice(Node n) {
    Output x = n.in(0);
    int r = n.rank(x);
    long[] starts;
    long[] ends;
    long[] axes;
    long[] steps;
    if (n.opset < 10) {
      starts = n.attrInts("starts").orElseThrow(() -> n.error("attribute 'starts' is missing"));
      ends = n.attrInts("ends").orElseThrow(() -> n.error("attribute 'ends' is missing"));
      axes = n.attrInts("axes").orElse(null);
      steps = null;
    } else {
      starts = n.constLongs(1, "starts");
      ends = n.constLongs(2, "ends");
      axes = n.has(3) ? n.constLongs(3, "axes") : null;
      steps = n.has(4) ? n.constLongs(4, "steps") : null;
    }
    if (axes == null) {
      axes = new long[starts.length];
      Arrays.setAll(axes, i -> i);
    }
    int[] begin = new int[r];
    int[] size = new int[r];
    Arrays.fill(size, -1);
    Output y = x;
    List<int[]> strided = new ArrayList<>();
    for (int i = 0; i < axes.length; i++) {
      int a = n.axis(axes[i], r);
      long step = steps == null ? 1 : steps[i];
      if (step == 0) {
        throw n.error("step 0 on axis " + a);
      }
      int d = x.shape().dim(a);
      if (d < 0) {
        if (step == 1 && starts[i] >= 0 && ends[i] >= Integer.MAX_VALUE) {
          begin[a] = (int) starts[i];
          continue;
        }
        throw n.unsupported("axis " + a + " of " + x.shape() + " has an unknown size");
      }
      long s = starts[i] < 0 ? starts[i] + d : starts[i];
      long e = ends[i] < 0 ? ends[i] + d : ends[i];
      if (step > 0) {
        s = Math.max(0, Math.min(d, s));
        e = Math.max(0, Math.min(d, e));
      } else {
        s = Math.max(-1, Math.min(d - 1, s));
        e = Math.max(-1, Math.min(d - 1, e));
      }
      if (step == 1) {
        begin[a] = (int) s;
        size[a] = (int) Math.max(0, e - s);
      } else {
        List<Integer> idx = new ArrayList<>();
        for (long k = s; step > 0 ? k < e : k > e; k += step) {
          idx.add((int) k);
        }
        strided.add(new int[] {a});
        strided.add(idx.stream().mapToInt(Integer::intValue).toArray());
      }
    }
    boolean plain = false;
    for (int i = 0; i < r; i++) {
      plain |= begin[i] != 0 || size[i] != -1;
    }
    if (plain) {
      y = n.ops.slice(y, begin, size);
    }
    for (int k = 0; k < strided.size(); k += 2) {
      int[] idx = strided.get(k + 1);
      y = n.ops.gather(y, n.ops.constant(Tensor.of(idx, idx.length)), strided.get(k)[0]);
    }
    n.out(y == x ? n.ops.identity(x) : y);
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

  private static Output depthToSpace(Node n) {
    Output x = n.in(0);
    Shape s = x.shape();
    if (!s.isFullyDefined() || s.rank() != 4) {
      throw n.unsupported("needs a static 4-D input shape, got " + s);
    }
    int b = (int) n.attrInt("blocksize", 0);
    int[] d = s.dims();
    int c = d[1] / (b * b);
    boolean crd = n.attrString("mode", "DCR").equals("CRD");
    Ops o = n.ops;
    Output t = crd
        ? o.transpose(o.reshape(x, d[0], c, b, b, d[2], d[3]), 0, 1, 4, 2, 5, 3)
        : o.transpose(o.reshape(x, d[0], b, b, c, d[2], d[3]), 0, 3, 4, 1, 5, 2);
    return o.reshape(t, d[0], c, d[2] * b, d[3] * b);
  }

  private static Output spaceToDepth(Node n) {
    Output x = n.in(0);
    Shape s = x.shape();
    if (!s.isFullyDefined() || s.rank() != 4) {
      throw n.unsupported("needs a static 4-D input shape, got " + s);
    }
    int b = (int) n.attrInt("blocksize", 0);
    int[] d = s.dims();
    Ops o = n.ops;
    Output t = o.transpose(o.reshape(x, d[0], d[1], d[2] / b, b, d[3] / b, b), 0, 3, 5, 1, 2, 4);
    return o.reshape(t, d[0], d[1] * b * b, d[2] / b, d[3] / b);
  }
}
