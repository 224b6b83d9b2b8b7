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
    m.put("Expand", n -> {
      Output x = n.in(0);
      if (n.symIn(1).isPresent()) {
        n.out(SymbolicShapes.expand(n, x, n.symIn(1).get()));
        return;
      }
      long[] target = n.constLongs(1, "shape");
      Shape t = Shape.of(Node.ints(target));
      n.out(n.ops.broadcastTo(x, Shape.broadcast(x.shape(), t)));
    });
    m.put("Tile", n -> n.out(n.ops.tile(n.in(0), Node.ints(n.constLongs(1, "repeats")))));
    m.put("Pad", PadMapper::pad);
    m.put("ConstantOfShape", n -> {
      Tensor v = n.attrTensor("value").orElse(Tensor.of(new float[] {0f}, 1));
      Output scalar = n.ops.constant(v.size() == 1 ? oneElement(v) : v);
      if (n.symIn(0).isPresent()) {
        n.out(SymbolicShapes.constantOfShape(n, n.symIn(0).get(), scalar));
        return;
      }
      int[] dims = Node.ints(n.constLongs(0, "shape"));
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
      case FLOAT16, BFLOAT16 -> dev.kiln.graph.HostBuffers.adopt(v.dtype(), dev.kiln.graph.Shape.scalar(),
          new float[] {v.toFloatArray()[0]});
      case INT8, UINT8, INT16 -> dev.kiln.graph.HostBuffers.adopt(v.dtype(), dev.kiln.graph.Shape.scalar(),
          new int[] {v.toIntArray()[0]});
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
    boolean allowZero = n.attrInt("allowzero", 0) != 0;
    if (n.opset >= 5 && n.symIn(1).isPresent()) {
      n.out(n.ops.reshape(x, SymbolicShapes.reshapeDims(n, x, n.symIn(1).get(), allowZero)));
      return;
    }
    long[] target = n.constLongs(1, "shape");
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
