package dev.kiln.optimizer;

import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Run-time shapes as far as the graph determines them, for rules that must know two shapes are equal
 * where the static shapes say {@code [?,10]} and {@code [?,10]}: each dimension is a known size (>= 0)
 * or a symbol (< 0) that stands for the same unknown size wherever it appears. Shapes flow through
 * the ops that determine their output's shape from their inputs' (elementwise ops and broadcasting,
 * MatMul, reductions, ReduceSumLike/ReshapeLike, ExpandDims, Squeeze, Transpose); any other value, and
 * every fed value (a feed may have any compatible shape), gets fresh symbols for its unknown dims.
 * Sound for every run in which the graph's ops succeed: two values with equal symbolic shapes have
 * equal shapes.
 */
final class SymbolicShapes {
  private final Values values;
  private final Map<Output, int[]> dims = new HashMap<>();
  private int nextSymbol = -1;

  SymbolicShapes(Values values) {
    this.values = values;
  }

  /** Whether {@code a} and {@code b} have the same shape in every run. */
  boolean sameShape(Output a, Output b) {
    int[] da = of(a);
    int[] db = of(b);
    return da != null && db != null && Arrays.equals(da, db);
  }

  /**
   * Whether broadcasting {@code c} against {@code x} leaves x's shape unchanged in every run: c has
   * no more dims than x, and each of its dims (aligned from the right) is 1 or x's dim.
   */
  boolean broadcastsInto(Output c, Output x) {
    int[] dc = of(c);
    int[] dx = of(x);
    if (dc == null || dx == null || dc.length > dx.length) {
      return dc != null && dc.length == 0;
    }
    int off = dx.length - dc.length;
    for (int i = 0; i < dc.length; i++) {
      if (dc[i] != 1 && dc[i] != dx[off + i]) {
        return false;
      }
    }
    return true;
  }

  /** The symbolic dims of {@code o}, or null for an unknown rank. */
  int[] of(Output o) {
    if (dims.containsKey(o)) {
      return dims.get(o);
    }
    // Iteratively, inputs first: long chains must not overflow the stack.
    Deque<Output> work = new ArrayDeque<>();
    work.push(o);
    while (!work.isEmpty()) {
      Output v = work.peek();
      if (dims.containsKey(v)) {
        work.pop();
        continue;
      }
      List<Output> needs = shapeInputs(v);
      boolean ready = true;
      for (Output in : needs) {
        if (!dims.containsKey(in)) {
          work.push(in);
          ready = false;
        }
      }
      if (ready) {
        work.pop();
        dims.put(v, merge(compute(v), v.shape()));
      }
    }
    return dims.get(o);
  }

  /** The inputs whose shapes determine {@code v}'s (none: fresh symbols). */
  private List<Output> shapeInputs(Output v) {
    Operation op = v.op();
    if (values.isFed(v) || op.numOutputs() != 1) {
      return List.of();
    }
    return switch (op.type()) {
      case "MatMul", "FusedMatMul", "Gemm" -> op.inputs().subList(0, 2);
      case "ReduceSumLike", "ReshapeLike" -> List.of(op.input(1));
      case "Sum", "Mean", "Max", "Min", "Prod", "ExpandDims", "Squeeze", "Transpose", "Softmax", "LogSoftmax" ->
          List.of(op.input(0));
      default -> op.def().traits().contains(OpTrait.ELEMENTWISE) && !op.type().equals("Fused") ? op.inputs() : List.of();
    };
  }

  private int[] compute(Output v) {
    Operation op = v.op();
    List<Output> in = shapeInputs(v);
    if (in.isEmpty()) {
      return null;
    }
    return switch (op.type()) {
      case "MatMul", "FusedMatMul", "Gemm" -> matmul(op, dims.get(in.get(0)), dims.get(in.get(1)));
      case "ReduceSumLike", "ReshapeLike", "Softmax", "LogSoftmax" -> dims.get(in.get(0));
      case "Sum", "Mean", "Max", "Min", "Prod" -> reduce(op, dims.get(in.get(0)));
      case "ExpandDims" -> expandDims(op, dims.get(in.get(0)));
      case "Squeeze" -> squeeze(op, dims.get(in.get(0)));
      case "Transpose" -> transpose(op, dims.get(in.get(0)));
      default -> broadcast(in);
    };
  }

  private static int[] matmul(Operation op, int[] a, int[] b) {
    if (a == null || b == null || a.length != 2 || b.length != 2) {
      return null;
    }
    boolean ta = op.attrs().getBool("transpose_a", false);
    boolean tb = op.attrs().getBool("transpose_b", false);
    return new int[] {ta ? a[1] : a[0], tb ? b[0] : b[1]};
  }

  private static int[] reduce(Operation op, int[] x) {
    if (x == null) {
      return null;
    }
    boolean[] reduced = new boolean[x.length];
    for (long a : axes(op)) {
      reduced[(int) (a < 0 ? a + x.length : a)] = true;
    }
    boolean keep = op.attrs().getBool("keep_dims", false);
    return java.util.stream.IntStream.range(0, x.length).filter(i -> !reduced[i] || keep)
        .map(i -> reduced[i] ? 1 : x[i]).toArray();
  }

  private static List<Long> axes(Operation op) {
    return op.attrs().has("axes") ? op.attrs().getLongs("axes") : List.of();
  }

  private static int[] expandDims(Operation op, int[] x) {
    if (x == null) {
      return null;
    }
    long a = op.attrs().getLong("axis");
    int k = (int) (a < 0 ? a + x.length + 1 : a);
    int[] out = new int[x.length + 1];
    for (int i = 0, j = 0; i < out.length; i++) {
      out[i] = i == k ? 1 : x[j++];
    }
    return out;
  }

  private static int[] squeeze(Operation op, int[] x) {
    if (x == null) {
      return null;
    }
    boolean[] drop = new boolean[x.length];
    List<Long> axes = axes(op);
    for (int i = 0; i < x.length; i++) {
      drop[i] = axes.isEmpty() && x[i] == 1;
    }
    for (long a : axes) {
      drop[(int) (a < 0 ? a + x.length : a)] = true;
    }
    return java.util.stream.IntStream.range(0, x.length).filter(i -> !drop[i]).map(i -> x[i]).toArray();
  }

  private static int[] transpose(Operation op, int[] x) {
    int[] perm = op.attrs().getInts("perm");
    if (x == null || perm.length != x.length) {
      return null;
    }
    int[] out = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[perm[i]];
    }
    return out;
  }

  /** NumPy broadcasting of symbolic dims; where two different symbols meet the result is unknown. */
  private int[] broadcast(List<Output> in) {
    int[] out = new int[0];
    for (Output o : in) {
      int[] d = dims.get(o);
      if (d == null) {
        return null;
      }
      int r = Math.max(out.length, d.length);
      int[] b = new int[r];
      for (int i = 0; i < r; i++) {
        int x = i < r - out.length ? 1 : out[i - (r - out.length)];
        int y = i < r - d.length ? 1 : d[i - (r - d.length)];
        if (x == y || y == 1) {
          b[i] = x;
        } else if (x == 1) {
          b[i] = y;
        } else if (x >= 0 && y < 0) {
          b[i] = x; // a known size against a symbol, which must be that size or 1
        } else if (y >= 0 && x < 0) {
          b[i] = y;
        } else {
          b[i] = nextSymbol--; // two different symbols (either may be 1), or sizes that do not broadcast
        }
      }
      out = b;
    }
    return out;
  }

  /**
   * The computed dims checked against the static shape: a dim the static shape knows is that size; a
   * rank that disagrees (or nothing computed) gives the static shape with fresh symbols.
   */
  private int[] merge(int[] computed, Shape stat) {
    if (!stat.hasKnownRank()) {
      return computed;
    }
    int[] out = new int[stat.rank()];
    boolean usable = computed != null && computed.length == out.length;
    for (int i = 0; i < out.length; i++) {
      int s = stat.dim(i);
      out[i] = s >= 0 ? s : usable ? computed[i] : nextSymbol--;
    }
    return out;
  }
}
