package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.Arrays;
import java.util.Map;

/** Reductions (axes an attribute or, from opset 13 for ReduceSum and 18 for the rest, an input), ArgMax/ArgMin. */
final class ReduceMappers {
  private ReduceMappers() {}

  private interface Reduce {
    Output apply(Ops o, Output x, int[] axes, boolean keep);
  }

  static void register(Map<String, Mapper> m) {
    reduce(m, "ReduceSum", 13, Ops::reduceSum);
    reduce(m, "ReduceMean", 18, Ops::reduceMean);
    reduce(m, "ReduceMax", 18, Ops::reduceMax);
    reduce(m, "ReduceMin", 18, Ops::reduceMin);
    reduce(m, "ReduceProd", 18, Ops::reduceProd);
    reduce(m, "ReduceL1", 18, (o, x, a, k) -> o.reduceSum(o.abs(x), a, k));
    reduce(m, "ReduceL2", 18, (o, x, a, k) -> o.sqrt(o.reduceSum(o.square(x), a, k)));
    reduce(m, "ReduceSumSquare", 18, (o, x, a, k) -> o.reduceSum(o.square(x), a, k));
    reduce(m, "ReduceLogSum", 18, (o, x, a, k) -> o.log(o.reduceSum(x, a, k)));
    reduce(m, "ReduceLogSumExp", 18, (o, x, a, k) -> o.log(o.reduceSum(o.exp(x), a, k)));
    m.put("ArgMax", n -> arg(n, true));
    m.put("ArgMin", n -> arg(n, false));
  }

  private static void reduce(Map<String, Mapper> m, String type, int axesInputSince, Reduce f) {
    m.put(type, n -> {
      Output x = n.in(0);
      int r = n.rank(x);
      boolean keep = n.attrInt("keepdims", 1) != 0;
      long[] axes = n.opset < axesInputSince ? n.attrInts("axes").orElse(new long[0])
          : n.has(1) ? n.constLongs(1, "axes") : new long[0];
      int[] a;
      if (axes.length == 0) {
        if (n.attrInt("noop_with_empty_axes", 0) != 0) {
          n.out(n.ops.identity(x));
          return;
        }
        a = new int[r];
        Arrays.setAll(a, i -> i);
      } else {
        a = n.axes(axes, r);
      }
      n.out(f.apply(n.ops, x, a, keep));
    });
  }

  private static void arg(Node n, boolean max) {
    Output x = n.in(0);
    int r = n.rank(x);
    int axis = n.axis(n.attrInt("axis", 0), r);
    boolean keep = n.attrInt("keepdims", 1) != 0;
    Ops o = n.ops;
    Output y;
    if (n.attrInt("select_last_index", 0) != 0) {
      int d = x.shape().dim(axis);
      if (d < 0) {
        throw n.unsupported("select_last_index on an axis of unknown size");
      }
      int[] rev = new int[d];
      Arrays.setAll(rev, i -> d - 1 - i);
      Output flipped = o.gather(x, o.constant(dev.kiln.graph.Tensor.of(rev, d)), axis);
      Output i = max ? o.argMax(flipped, axis) : o.argMin(flipped, axis);
      y = o.sub(o.constant((long) d - 1), i);
    } else {
      y = max ? o.argMax(x, axis) : o.argMin(x, axis);
    }
    n.out(keep ? o.expandDims(y, axis) : y);
  }
}
