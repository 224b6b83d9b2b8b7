package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Shape vectors that Kiln cannot compute at import because a dimension is unknown (a dim_param), tracked entry by
 * entry: each entry is a constant or "dimension a of tensor T". Shape/Gather/Slice/Unsqueeze/Squeeze/Concat/Cast
 * fold over them, so that a Reshape or Expand target built from the input's own shape (PyTorch's
 * {@code x.view(x.size(0), -1)}) lowers to a Kiln op with the unknown dimension inferred at run time.
 */
final class SymbolicShapes {
  private SymbolicShapes() {}

  sealed interface Entry permits Known, DimOf {}

  record Known(long value) implements Entry {}

  /** Dimension {@code axis} of {@code tensor}, unknown until run time; {@code name} is its ONNX name. */
  record DimOf(Output tensor, int axis, String name) implements Entry {
    boolean sameAs(DimOf o) {
      return tensor.equals(o.tensor) && axis == o.axis;
    }

    @Override
    public String toString() {
      return "dimension " + axis + " of '" + name + "'";
    }
  }

  /** A 1-D int64 vector of entries, or a scalar (one entry) when {@code scalar}. */
  record Sym(List<Entry> entries, boolean scalar) {
    Sym {
      entries = List.copyOf(entries);
    }

    boolean allKnown() {
      return entries.stream().allMatch(e -> e instanceof Known);
    }

    Tensor toTensor() {
      long[] v = entries.stream().mapToLong(e -> ((Known) e).value()).toArray();
      return scalar ? Tensor.scalar(v[0]) : Tensor.of(v, v.length);
    }

    String describe() {
      return entries.stream().map(e -> e instanceof Known k ? Long.toString(k.value()) : e.toString()).toList().toString();
    }
  }

  /**
   * Maps n over symbolic values when one of its inputs is symbolic (or it is a Shape of a partly unknown shape),
   * defining its output as symbolic, or as a constant when every entry came out known. False when n is not such
   * a node, and then its ordinary mapper runs (and names the symbolic input if it needs a real tensor).
   */
  static boolean tryMap(Node n) {
    Optional<Sym> y = switch (n.type()) {
      case "Shape" -> shape(n);
      case "Gather" -> n.symIn(0).flatMap(s -> gather(n, s));
      case "Slice" -> n.symIn(0).flatMap(s -> slice(n, s));
      case "Unsqueeze" -> n.symIn(0).filter(Sym::scalar).filter(s -> axesAre(n, 0)).map(s -> new Sym(s.entries(), false));
      case "Squeeze" -> n.symIn(0).filter(s -> !s.scalar() && s.entries().size() == 1).filter(s -> axesAre(n, 0))
          .map(s -> new Sym(s.entries(), true));
      case "Concat" -> concat(n);
      case "Cast" -> n.symIn(0).filter(s -> {
        long to = n.attrInt("to", 0);
        return to == 6 || to == 7; // INT32, INT64: dimensions keep their values
      });
      case "Identity" -> n.symIn(0);
      default -> Optional.empty();
    };
    if (y.isEmpty()) {
      return false;
    }
    Sym s = y.get();
    if (s.allKnown()) {
      n.out(n.ops.constant(s.toTensor()));
    } else {
      n.imp.defineSymbolic(n.proto.getOutput(0), s);
    }
    return true;
  }

  private static Optional<Sym> shape(Node n) {
    if (!n.has(0)) {
      return Optional.empty();
    }
    Output x = n.in(0);
    Shape s = x.shape();
    if (!s.hasKnownRank() || s.isFullyDefined()) {
      return Optional.empty();
    }
    int r = s.rank();
    int start = clamp(n.attrInt("start", 0), r);
    int end = clamp(n.attrInt("end", r), r);
    List<Entry> e = new ArrayList<>();
    for (int i = start; i < end; i++) {
      e.add(s.dim(i) >= 0 ? new Known(s.dim(i)) : new DimOf(x, i, n.proto.getInput(0)));
    }
    return Optional.of(new Sym(e, false));
  }

  private static int clamp(long a, int r) {
    long v = a < 0 ? a + r : a;
    return (int) Math.max(0, Math.min(r, v));
  }

  private static Optional<Sym> gather(Node n, Sym s) {
    if (s.scalar() || n.attrInt("axis", 0) != 0 && n.attrInt("axis", 0) != -1) {
      return Optional.empty();
    }
    Optional<Tensor> idx = n.constIn(1);
    if (idx.isEmpty() || idx.get().shape().rank() > 1) {
      return Optional.empty();
    }
    long[] ix = Node.longs(idx.get());
    List<Entry> e = new ArrayList<>();
    int len = s.entries().size();
    for (long i : ix) {
      if (i < -len || i >= len) {
        throw n.error("index " + i + " is out of range for a shape vector of " + len + " entries");
      }
      e.add(s.entries().get((int) (i < 0 ? i + len : i)));
    }
    return Optional.of(new Sym(e, idx.get().shape().rank() == 0));
  }

  private static Optional<Sym> slice(Node n, Sym s) {
    if (s.scalar()) {
      return Optional.empty();
    }
    long start;
    long end;
    long step = 1;
    if (n.opset < 10) {
      start = n.attrInts("starts").map(a -> a[0]).orElse(0L);
      end = n.attrInts("ends").map(a -> a[0]).orElse(Long.MAX_VALUE);
    } else {
      Optional<Tensor> st = n.constIn(1);
      Optional<Tensor> en = n.constIn(2);
      Optional<Tensor> ax = n.has(3) ? n.constIn(3) : Optional.of(Tensor.of(new long[] {0}, 1));
      Optional<Tensor> sp = n.has(4) ? n.constIn(4) : Optional.of(Tensor.of(new long[] {1}, 1));
      if (st.isEmpty() || en.isEmpty() || ax.isEmpty() || sp.isEmpty() || Node.longs(ax.get()).length != 1 || Node.longs(ax.get())[0] != 0 && Node.longs(ax.get())[0] != -1) {
        return Optional.empty();
      }
      start = Node.longs(st.get())[0];
      end = Node.longs(en.get())[0];
      step = Node.longs(sp.get())[0];
    }
    if (step == 0) {
      throw n.error("step 0 on axis 0");
    }
    long d = s.entries().size();
    long b = start < 0 ? start + d : start;
    long e = end < 0 ? end + d : end;
    if (step > 0) {
      b = Math.max(0, Math.min(d, b));
      e = Math.max(0, Math.min(d, e));
    } else {
      b = Math.max(-1, Math.min(d - 1, b));
      e = Math.max(-1, Math.min(d - 1, e));
    }
    List<Entry> out = new ArrayList<>();
    for (long k = b; step > 0 ? k < e : k > e; k += step) {
      out.add(s.entries().get((int) k));
    }
    return Optional.of(new Sym(out, false));
  }

  /** Unsqueeze/Squeeze of a shape value: only along axis 0 (the attribute before opset 13, an input from it). */
  private static boolean axesAre(Node n, long axis) {
    Optional<long[]> axes = n.opset < 13 ? n.attrInts("axes") : n.constIn(1).map(Node::longs);
    if (axes.isEmpty()) {
      return n.type().equals("Squeeze") && (n.opset < 13 || !n.has(1));
    }
    long[] a = axes.get();
    return a.length == 1 && (a[0] == axis || a[0] == -1);
  }

  private static Optional<Sym> concat(Node n) {
    long axis = n.attrInt("axis", 0);
    if (axis != 0 && axis != -1) {
      return Optional.empty();
    }
    boolean anySymbolic = false;
    List<Entry> e = new ArrayList<>();
    for (int i = 0; i < n.numInputs(); i++) {
      if (!n.has(i)) {
        continue;
      }
      Optional<Sym> s = n.symIn(i);
      if (s.isPresent()) {
        if (s.get().scalar()) {
          return Optional.empty();
        }
        anySymbolic = true;
        e.addAll(s.get().entries());
        continue;
      }
      Optional<Tensor> c = n.constIn(i);
      if (c.isEmpty() || c.get().shape().rank() != 1 || c.get().dtype().isFloating()) {
        return Optional.empty();
      }
      for (long v : Node.longs(c.get())) {
        e.add(new Known(v));
      }
    }
    return anySymbolic ? Optional.of(new Sym(e, false)) : Optional.empty();
  }

  // ---------------------------------------------------------------- consumers

  /**
   * Kiln's Reshape dimensions for an ONNX target with unknown entries: the element count must be provably that of
   * x (the unknown entries are x's own unknown dimensions), and at most one dimension is left for Kiln to infer.
   */
  static int[] reshapeDims(Node n, Output x, Sym target, boolean allowZero) {
    Shape xs = x.shape();
    if (!xs.hasKnownRank()) {
      throw n.unsupported("the shape target " + target.describe() + " has entries unknown until run time and the "
          + "input has an unknown rank");
    }
    List<Entry> t = new ArrayList<>(target.entries());
    for (int i = 0; i < t.size(); i++) {
      if (t.get(i) instanceof Known k && k.value() == 0 && !allowZero) {
        if (i >= xs.rank()) {
          throw n.error("shape entry " + i + " is 0 (copy) but the input " + xs + " has no such dimension");
        }
        t.set(i, xs.dim(i) >= 0 ? new Known(xs.dim(i)) : new DimOf(x, i, n.proto.getInput(0)));
      }
    }
    long known = 1;
    List<DimOf> remaining = new ArrayList<>();
    for (int i = 0; i < xs.rank(); i++) {
      if (xs.dim(i) >= 0) {
        known *= xs.dim(i);
      } else {
        remaining.add(new DimOf(x, i, n.proto.getInput(0)));
      }
    }
    long targetKnown = 1;
    int minusOne = -1;
    List<Integer> unknownAt = new ArrayList<>();
    for (int i = 0; i < t.size(); i++) {
      switch (t.get(i)) {
        case Known k when k.value() == -1 -> {
          if (minusOne >= 0) {
            throw n.error("shape " + target.describe() + " has more than one -1");
          }
          minusOne = i;
        }
        case Known k -> targetKnown *= k.value();
        case DimOf d -> {
          int pos = i;
          DimOf match = remaining.stream().filter(d::sameAs).findFirst().orElseThrow(() -> n.unsupported(
              "shape entry " + pos + " is " + d + ", unknown until run time and not a dimension of the input "
                  + xs + ", so the element count cannot be checked at import"));
          remaining.remove(match);
          unknownAt.add(i);
        }
      }
    }
    int[] dims = new int[t.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = t.get(i) instanceof Known k ? Math.toIntExact(k.value()) : -1;
    }
    if (minusOne >= 0 && remaining.isEmpty()) {
      if (targetKnown == 0 || known % targetKnown != 0) {
        throw n.error("shape " + target.describe() + " does not divide the input " + xs);
      }
      dims[minusOne] = Math.toIntExact(known / targetKnown);
    } else if (minusOne < 0 && !remaining.isEmpty()) {
      throw n.unsupported("shape " + target.describe() + " drops " + remaining.get(0)
          + " of the input, so the element count cannot be checked at import");
    } else if (minusOne < 0 && unknownAt.isEmpty() && known != targetKnown) {
      throw n.error("shape " + target.describe() + " has " + targetKnown + " elements, the input " + xs + " " + known);
    }
    long inferred = Arrays.stream(dims).filter(v -> v == -1).count();
    if (inferred > 1) {
      throw n.unsupported("shape " + target.describe() + " leaves " + inferred + " dimensions unknown at import, and "
          + "Kiln's Reshape infers at most one");
    }
    return dims;
  }

  /** Expand: x broadcast against ones of the target shape (NumPy's rules, which are Expand's). */
  static Output expand(Node n, Output x, Sym target) {
    Output ones = ones(n, target, x.dtype() == DType.BOOL ? DType.FLOAT32 : x.dtype());
    return x.dtype() == DType.BOOL ? n.ops.logicalAnd(x, n.ops.cast(ones, DType.BOOL)) : n.ops.mul(x, ones);
  }

  /** ConstantOfShape: the value times ones of the shape. */
  static Output constantOfShape(Node n, Sym target, Output value) {
    if (value.dtype() == DType.BOOL) {
      return n.ops.logicalAnd(n.ops.cast(ones(n, target, DType.FLOAT32), DType.BOOL), value);
    }
    return n.ops.mul(ones(n, target, value.dtype()), value);
  }

  /**
   * Ones of the target's shape: a constant with the unknown entries 1, times, for each unknown entry, a vector of
   * ones as long as that dimension (a one-wide slice of its tensor) laid along the entry's position.
   */
  private static Output ones(Node n, Sym target, DType dtype) {
    int r = target.entries().size();
    int[] dims = new int[r];
    for (int i = 0; i < r; i++) {
      dims[i] = target.entries().get(i) instanceof Known k ? Math.toIntExact(k.value()) : 1;
    }
    double[] one = new double[Math.toIntExact(Shape.of(dims).numElements())];
    Arrays.fill(one, 1);
    Output y = n.ops.cast(n.ops.constant(Tensor.of(one, dims)), dtype);
    for (int i = 0; i < r; i++) {
      if (target.entries().get(i) instanceof DimOf d) {
        int tr = d.tensor().shape().rank();
        int[] begin = new int[tr];
        int[] size = new int[tr];
        Arrays.fill(size, 1);
        size[d.axis()] = -1;
        int[] along = new int[r];
        Arrays.fill(along, 1);
        along[i] = -1;
        Output line = n.ops.reshape(n.ops.slice(d.tensor(), begin, size), along);
        y = n.ops.mul(y, n.ops.cast(n.ops.onesLike(line), dtype));
      }
    }
    return y;
  }
}
