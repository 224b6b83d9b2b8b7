package dev.kiln.graph;

import static dev.kiln.graph.AttrDef.optional;
import static dev.kiln.graph.AttrDef.required;
import static dev.kiln.graph.Infer.ALL;
import static dev.kiln.graph.Infer.BOOL;
import static dev.kiln.graph.Infer.FLOAT;
import static dev.kiln.graph.Infer.INTEGER;
import static dev.kiln.graph.Infer.NUMERIC;
import static dev.kiln.graph.Infer.attr;
import static dev.kiln.graph.Infer.attrLong;
import static dev.kiln.graph.Infer.attrLongs;
import static dev.kiln.graph.Infer.axis;
import static dev.kiln.graph.Infer.broadcast;
import static dev.kiln.graph.Infer.dtypeIn;
import static dev.kiln.graph.Infer.one;
import static dev.kiln.graph.Infer.sameDType;

import dev.kiln.graph.AttrDef.Constraint;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** The built-in op types and their type inference. Kernels and gradients live elsewhere. */
final class BuiltinOps {
  private BuiltinOps() {}

  static final int VARIADIC = Integer.MAX_VALUE;
  private static final Set<OpTrait> NONE = Set.of();
  private static final Set<OpTrait> EW = EnumSet.of(OpTrait.ELEMENTWISE);
  private static final Set<OpTrait> EW_COMM = EnumSet.of(OpTrait.ELEMENTWISE, OpTrait.COMMUTATIVE);
  private static final Set<OpTrait> STATEFUL = EnumSet.of(OpTrait.STATEFUL);
  private static final Set<OpTrait> VIEW = EnumSet.of(OpTrait.VIEW);

  /** MatMul's operand flags, shared with the fused products. */
  static final AttrDef TRANSPOSE_A = optional("transpose_a", AttrType.BOOL, false);
  static final AttrDef TRANSPOSE_B = optional("transpose_b", AttrType.BOOL, false);

  static void registerAll() {
    List<OpDef> defs = new ArrayList<>();
    // Sources.
    AttrSchema typed = AttrSchema.of(required("dtype", AttrType.DTYPE), required("shape", AttrType.SHAPE));
    defs.add(new OpSpec("Placeholder", 0, 0, NONE, typed,
        c -> one(attr(c, "dtype", DType.class), attr(c, "shape", Shape.class))));
    // A body Parameter standing for a captured variable names it ("variable"): the body may assign it.
    AttrSchema parameter = AttrSchema.of(required("dtype", AttrType.DTYPE), required("shape", AttrType.SHAPE),
        optional(ControlFlowOp.VARIABLE, AttrType.STRING));
    defs.add(new OpSpec("Parameter", 0, 0, NONE, parameter,
        c -> one(attr(c, "dtype", DType.class), attr(c, "shape", Shape.class))));
    defs.add(new OpSpec("Const", 0, 0, NONE, AttrSchema.of(required("value", AttrType.TENSOR)),
        c -> List.of(attr(c, "value", Tensor.class).type())));
    AttrSchema random = AttrSchema.of(
        required("dtype", AttrType.DTYPE).constrained(Constraint.oneOf(DType.FLOAT32, DType.FLOAT64)),
        required("shape", AttrType.SHAPE), required("seed", AttrType.INT));
    defs.add(new OpSpec("RandomNormal", 0, 0, STATEFUL, random, BuiltinOps::random));
    defs.add(new OpSpec("RandomUniform", 0, 0, STATEFUL, random, BuiltinOps::random));
    defs.add(new OpSpec("Fill", 1, 1, NONE, AttrSchema.of(required("shape", AttrType.SHAPE)), c -> {
      requireScalar(c, 0);
      return one(c.dtype(0), Infer.requireDefinedAttrShape(c, "shape"));
    }));

    // State.
    defs.add(new OpSpec("Variable", 1, 1, STATEFUL, c -> {
      if (!c.shape(0).isFullyDefined()) {
        throw c.error("initial value must have a fully defined shape, got %s", c.shape(0));
      }
      return List.of(c.input(0));
    }, i -> i != 0));
    for (String t : List.of("Assign", "AssignAdd", "AssignSub")) {
      defs.add(new OpSpec(t, 2, 2, STATEFUL, BuiltinOps::assign, i -> i != 0));
    }
    defs.add(new OpSpec("NoOp", 0, 0, NONE, c -> List.of()));

    // Views and identity.
    defs.add(new OpSpec("Identity", 1, 1, EnumSet.of(OpTrait.VIEW, OpTrait.ELEMENTWISE), c -> List.of(c.input(0))));
    defs.add(new OpSpec("StopGradient", 1, 1, EnumSet.of(OpTrait.VIEW, OpTrait.ELEMENTWISE), c -> List.of(c.input(0))));
    defs.add(new OpSpec("Reshape", 1, 1, VIEW, AttrSchema.of(required("shape", AttrType.SHAPE)), BuiltinOps::reshape));
    defs.add(new OpSpec("ReshapeLike", 2, 2, VIEW, BuiltinOps::reshapeLike));
    defs.add(new OpSpec("ExpandDims", 1, 1, VIEW, AttrSchema.of(required("axis", AttrType.INT)), BuiltinOps::expandDims));
    defs.add(new OpSpec("Squeeze", 1, 1, VIEW, AttrSchema.of(required("axes", AttrType.INT_LIST)), BuiltinOps::squeeze));

    // Elementwise ops (ElementwiseOps: primitives and composites).


    // Linear algebra and normalizations.
    defs.add(new OpSpec("MatMul", 2, 2, NONE, AttrSchema.of(TRANSPOSE_A, TRANSPOSE_B), BuiltinOps::matmul));
    AttrSchema lastAxis = AttrSchema.of(optional("axis", AttrType.INT, -1L));
    defs.add(new OpSpec("Softmax", 1, 1, NONE, lastAxis, BuiltinOps::softmax));
    defs.add(new OpSpec("LogSoftmax", 1, 1, NONE, lastAxis, BuiltinOps::softmax));

    // Reductions.
    AttrSchema reduction = AttrSchema.of(required("axes", AttrType.INT_LIST), optional("keep_dims", AttrType.BOOL, false));
    for (String t : List.of("Sum", "Mean", "Max", "Min", "Prod")) {
      defs.add(new OpSpec(t, 1, 1, NONE, reduction, BuiltinOps::reduce));
    }
    defs.add(new OpSpec("ReduceSumLike", 2, 2, NONE, BuiltinOps::reduceSumLike));
    defs.add(new OpSpec("ArgMax", 1, 1, NONE, AttrSchema.of(required("axis", AttrType.INT),
        optional("output_type", AttrType.DTYPE, DType.INT64).constrained(Constraint.oneOf(DType.INT32, DType.INT64))),
        BuiltinOps::argMax));

    // Layout.
    defs.add(new OpSpec("Transpose", 1, 1, NONE, AttrSchema.of(required("perm", AttrType.INT_LIST)), BuiltinOps::transpose));
    defs.add(new OpSpec("Concat", 1, VARIADIC, NONE, AttrSchema.of(required("axis", AttrType.INT)), BuiltinOps::concat));
    defs.add(new OpSpec("Slice", 1, 1, NONE,
        AttrSchema.of(required("begin", AttrType.INT_LIST), required("size", AttrType.INT_LIST)), BuiltinOps::slice));
    defs.add(new OpSpec("Pad", 1, 1, NONE, AttrSchema.of(required("paddings", AttrType.INT_LIST)), BuiltinOps::pad));
    defs.add(new OpSpec("OneHot", 1, 1, NONE, AttrSchema.of(
        required("depth", AttrType.INT).constrained(Constraint.range(1, Integer.MAX_VALUE)),
        required("dtype", AttrType.DTYPE).constrained(
            Constraint.oneOf(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64)),
        required("on_value", AttrType.FLOAT), required("off_value", AttrType.FLOAT)), BuiltinOps::oneHot));

    ElementwiseOps.define(defs);
    FusedOps.define(defs);
    DeviceOps.define(defs);
    ArrayOps.define(defs);
    NormOps.define(defs);
    ConvOps.define(defs);
    TensorArrayOps.define(defs);
    defs.add(new ControlFlowOp.Cond());
    defs.add(new ControlFlowOp.While());

    for (OpDef d : defs) {
      OpRegistry.register(d);
    }
  }

  private static void requireScalar(OpContext c, int i) {
    Shape s = c.shape(i);
    if (s.hasKnownRank() && s.rank() != 0) {
      throw c.error("input %d must be a scalar, got %s", i, s);
    }
  }

  private static List<TensorType> random(OpContext c) {
    DType d = attr(c, "dtype", DType.class);
    if (!d.isFloating()) {
      throw c.error("dtype must be float (f32, f64, f16, bf16), got %s", d.shortName());
    }
    attrLong(c, "seed");
    return one(d, Infer.requireDefinedAttrShape(c, "shape"));
  }

  private static List<TensorType> assign(OpContext c) {
    Output ref = c.inputs().get(0);
    if (!ref.op().type().equals("Variable") && !ControlFlowOp.isCapturedVariable(ref)) {
      throw c.error("input 0 must be a Variable, got %s '%s'", ref.op().type(), ref.name());
    }
    if (c.dtype(1) != c.dtype(0)) {
      throw c.error("value dtype %s does not match variable '%s' of dtype %s",
          c.dtype(1).shortName(), ref.name(), c.dtype(0).shortName());
    }
    if (!c.shape(0).isCompatibleWith(c.shape(1))) {
      throw c.error("value shape %s does not match variable '%s' of shape %s", c.shape(1), ref.name(), c.shape(0));
    }
    return List.of(c.input(0));
  }

  private static List<TensorType> matmul(OpContext c) {
    DType d = sameDType(c, 0, NUMERIC);
    Infer.requireRank(c, 0, 2);
    Infer.requireRank(c, 1, 2);
    boolean ta = Infer.attrBool(c, "transpose_a", false);
    boolean tb = Infer.attrBool(c, "transpose_b", false);
    Shape a = c.shape(0);
    Shape b = c.shape(1);
    int m = a.hasKnownRank() ? a.dim(ta ? 1 : 0) : -1;
    int ka = a.hasKnownRank() ? a.dim(ta ? 0 : 1) : -1;
    int kb = b.hasKnownRank() ? b.dim(tb ? 1 : 0) : -1;
    int n = b.hasKnownRank() ? b.dim(tb ? 0 : 1) : -1;
    if (ka >= 0 && kb >= 0 && ka != kb) {
      throw c.error("inner dimensions differ: %s%s x %s%s", a, ta ? "^T" : "", b, tb ? "^T" : "");
    }
    return one(d, Shape.of(m, n));
  }

  private static List<TensorType> softmax(OpContext c) {
    DType d = dtypeIn(c, 0, FLOAT);
    Shape s = c.shape(0);
    long ax = c.attrs().has("axis") ? attrLong(c, "axis") : -1;
    if (s.hasKnownRank()) {
      if (s.rank() == 0) {
        throw c.error("input must have rank >= 1, got a scalar");
      }
      axis(c, ax, s.rank(), s);
    }
    return one(d, s);
  }

  private static List<TensorType> reduce(OpContext c) {
    DType d = dtypeIn(c, 0, NUMERIC);
    Shape s = c.shape(0);
    List<Long> axes = attrLongs(c, "axes");
    boolean keep = Infer.attrBool(c, "keep_dims", false);
    if (!s.hasKnownRank()) {
      return one(d, Shape.unknown());
    }
    int r = s.rank();
    boolean[] reduced = new boolean[r];
    for (long a : axes) {
      int k = axis(c, a, r, s);
      if (reduced[k]) {
        throw c.error("axis %d listed twice", a);
      }
      reduced[k] = true;
    }
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      if (!reduced[i]) {
        out.add(s.dim(i));
      } else if (keep) {
        out.add(1);
      }
    }
    return one(d, Shape.of(out.stream().mapToInt(Integer::intValue).toArray()));
  }

  private static List<TensorType> reduceSumLike(OpContext c) {
    DType d = dtypeIn(c, 0, NUMERIC);
    Shape b = Shape.broadcast(c.shape(1), c.shape(0));
    if (b == null || (b.hasKnownRank() && c.shape(0).hasKnownRank() && !b.isCompatibleWith(c.shape(0)))) {
      throw c.error("shape %s does not broadcast to %s, so %s cannot be summed to it", c.shape(1), c.shape(0), c.shape(0));
    }
    return one(d, c.shape(1));
  }

  private static List<TensorType> argMax(OpContext c) {
    dtypeIn(c, 0, NUMERIC);
    DType outType = c.attrs().has("output_type") ? attr(c, "output_type", DType.class) : DType.INT64;
    if (!outType.isInteger()) {
      throw c.error("output_type must be integer (i32, i64, i8, u8, i16), got %s", outType.shortName());
    }
    Shape s = c.shape(0);
    if (!s.hasKnownRank()) {
      return one(outType, Shape.unknown());
    }
    if (s.rank() == 0) {
      throw c.error("input must have rank >= 1, got a scalar");
    }
    int k = axis(c, attrLong(c, "axis"), s.rank(), s);
    int[] dims = s.dims();
    int[] out = new int[dims.length - 1];
    for (int i = 0, j = 0; i < dims.length; i++) {
      if (i != k) {
        out[j++] = dims[i];
      }
    }
    return one(outType, Shape.of(out));
  }

  private static List<TensorType> reshape(OpContext c) {
    Shape target = attr(c, "shape", Shape.class);
    Shape in = c.shape(0);
    if (!target.hasKnownRank()) {
      throw c.error("target shape must have a known rank");
    }
    String tooLarge = target.tooLargeForTensor();
    if (tooLarge != null) {
      throw c.error("target %s", tooLarge); // and so the products below cannot overflow
    }
    int[] t = target.dims();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < t.length; i++) {
      if (t[i] < 0) {
        if (infer >= 0) {
          throw c.error("target shape %s has more than one unknown (-1) dimension", target);
        }
        infer = i;
      } else {
        known *= t[i];
      }
    }
    long n = in.numElements();
    if (n >= 0) {
      if (infer >= 0) {
        if (known == 0 || n % known != 0) {
          throw c.error("cannot reshape %s (%d elements) to %s", in, n, target);
        }
        if (n / known > Integer.MAX_VALUE) {
          throw c.error("cannot reshape %s (%d elements) to %s: inferred dimension %d is too large", in, n, target, n / known);
        }
        t[infer] = (int) (n / known);
      } else if (n != known) {
        throw c.error("cannot reshape %s (%d elements) to %s (%d elements)", in, n, target, known);
      }
    } else if (infer < 0 && in.hasKnownRank()) {
      // Some input dimensions are unknown, but the known ones still divide the element count.
      long partial = 1;
      for (int d : in.dims()) {
        partial *= Math.max(d, 1);
      }
      if (known % partial != 0) {
        throw c.error("cannot reshape %s (a multiple of %d elements) to %s (%d elements)", in, partial, target, known);
      }
    }
    return one(c.dtype(0), Shape.of(t));
  }

  private static List<TensorType> reshapeLike(OpContext c) {
    long n = c.shape(0).numElements();
    long m = c.shape(1).numElements();
    if (n >= 0 && m >= 0 && n != m) {
      throw c.error("cannot reshape %s (%d elements) like %s (%d elements)", c.shape(0), n, c.shape(1), m);
    }
    return one(c.dtype(0), c.shape(1));
  }

  private static List<TensorType> expandDims(OpContext c) {
    Shape s = c.shape(0);
    long a = attrLong(c, "axis");
    if (!s.hasKnownRank()) {
      return one(c.dtype(0), Shape.unknown());
    }
    int r = s.rank();
    if (a < -r - 1 || a > r) {
      // The new axis may also go after the last one, so the valid range is one wider than the rank.
      throw c.error("axis %d out of range for rank %d input %s: a new axis goes at -%d..%d", a, r, s, r + 1, r);
    }
    int k = (int) (a < 0 ? a + r + 1 : a);
    int[] d = s.dims();
    int[] out = new int[d.length + 1];
    for (int i = 0, j = 0; i < out.length; i++) {
      out[i] = i == k ? 1 : d[j++];
    }
    return one(c.dtype(0), Shape.of(out));
  }

  private static List<TensorType> squeeze(OpContext c) {
    Shape s = c.shape(0);
    List<Long> axes = attrLongs(c, "axes");
    if (!s.hasKnownRank()) {
      if (axes.isEmpty()) {
        throw c.error("input of unknown rank: name the axes to squeeze");
      }
      return one(c.dtype(0), Shape.unknown());
    }
    int[] d = s.dims();
    boolean[] drop = new boolean[d.length];
    if (axes.isEmpty()) {
      for (int i = 0; i < d.length; i++) {
        if (d[i] < 0) {
          throw c.error("dimension %d of %s is unknown: name the axes to squeeze", i, s);
        }
        drop[i] = d[i] == 1;
      }
    }
    for (long a : axes) {
      int k = axis(c, a, d.length, s);
      if (d[k] > 1 || d[k] == 0) {
        throw c.error("cannot squeeze axis %d of size %d in %s", a, d[k], s);
      }
      drop[k] = true;
    }
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < d.length; i++) {
      if (!drop[i]) {
        out.add(d[i]);
      }
    }
    return one(c.dtype(0), Shape.of(out.stream().mapToInt(Integer::intValue).toArray()));
  }

  private static List<TensorType> transpose(OpContext c) {
    Shape s = c.shape(0);
    List<Long> perm = attrLongs(c, "perm");
    if (s.hasKnownRank() && perm.size() != s.rank()) {
      throw c.error("perm %s has %d entries for rank %d input %s", perm, perm.size(), s.rank(), s);
    }
    boolean[] seen = new boolean[perm.size()];
    int[] out = new int[perm.size()];
    for (int i = 0; i < perm.size(); i++) {
      long p = perm.get(i);
      if (p < 0 || p >= perm.size() || seen[(int) p]) {
        throw c.error("perm %s is not a permutation of 0..%d", perm, perm.size() - 1);
      }
      seen[(int) p] = true;
      out[i] = s.hasKnownRank() ? s.dim((int) p) : -1;
    }
    return one(c.dtype(0), Shape.of(out));
  }

  private static List<TensorType> concat(OpContext c) {
    DType d = sameDType(c, 0, ALL);
    long a = attrLong(c, "axis");
    int rank = -1;
    for (int i = 0; i < c.numInputs(); i++) {
      Shape s = c.shape(i);
      if (!s.hasKnownRank()) {
        continue;
      }
      if (rank >= 0 && s.rank() != rank) {
        throw c.error("input %d has rank %d, expected %d: %s", i, s.rank(), rank, s);
      }
      rank = s.rank();
    }
    if (rank < 0) {
      return one(d, Shape.unknown());
    }
    if (rank == 0) {
      throw c.error("cannot concatenate scalars");
    }
    Shape known = c.inputs().stream().map(Output::shape).filter(Shape::hasKnownRank).findFirst().orElseThrow();
    int k = axis(c, a, rank, known);
    int[] out = null;
    for (int i = 0; i < c.numInputs(); i++) {
      Shape s = c.shape(i);
      if (!s.hasKnownRank()) {
        out = out == null ? Shape.unknownDims(rank).dims() : out;
        out[k] = -1;
        continue;
      }
      int[] sd = s.dims();
      if (out == null) {
        out = sd;
        continue;
      }
      for (int j = 0; j < rank; j++) {
        if (j != k && out[j] >= 0 && sd[j] >= 0 && out[j] != sd[j]) {
          throw c.error("input %d has shape %s, which differs from %s outside axis %d", i, s, Shape.of(out), k);
        }
      }
      for (int j = 0; j < rank; j++) {
        if (j == k) {
          out[j] = out[j] < 0 || sd[j] < 0 ? -1
              : Infer.dimension(c, java.math.BigInteger.valueOf(out[j]).add(java.math.BigInteger.valueOf(sd[j])), "axis " + k);
        } else if (out[j] < 0) {
          out[j] = sd[j];
        }
      }
    }
    return one(d, Shape.of(out));
  }

  private static List<TensorType> slice(OpContext c) {
    Shape s = c.shape(0);
    List<Long> begin = attrLongs(c, "begin");
    List<Long> size = attrLongs(c, "size");
    if (begin.size() != size.size()) {
      throw c.error("begin %s and size %s differ in length", begin, size);
    }
    if (s.hasKnownRank() && s.rank() != begin.size()) {
      throw c.error("begin %s has %d entries for rank %d input %s", begin, begin.size(), s.rank(), s);
    }
    int[] out = new int[begin.size()];
    for (int i = 0; i < out.length; i++) {
      long b = begin.get(i);
      long z = size.get(i);
      int dim = s.hasKnownRank() ? s.dim(i) : -1;
      if (b < 0 || z < -1) {
        throw c.error("begin %s / size %s: begin must be >= 0 and size >= 0 or -1", begin, size);
      }
      if (dim >= 0 && (b > dim || (z >= 0 && z > dim - b))) {
        throw c.error("slice begin %s size %s is out of bounds for %s", begin, size, s);
      }
      if (z > Shape.MAX_ELEMENTS) {
        throw c.error("size %d along axis %d is more than a tensor can hold (%d)", z, i, Shape.MAX_ELEMENTS);
      }
      out[i] = z >= 0 ? (int) z : dim < 0 ? -1 : (int) (dim - b);
    }
    return one(c.dtype(0), Shape.of(out));
  }

  private static List<TensorType> pad(OpContext c) {
    Shape s = c.shape(0);
    List<Long> p = attrLongs(c, "paddings");
    if (!s.hasKnownRank() && p.size() % 2 != 0) {
      throw c.error("paddings %s must hold (before, after) pairs, got %d values", p, p.size());
    }
    if (s.hasKnownRank() && p.size() != 2 * s.rank()) {
      throw c.error("paddings %s must hold a (before, after) pair for each of the %d dimensions of %s", p, s.rank(), s);
    }
    if (p.stream().anyMatch(x -> x < 0)) {
      throw c.error("paddings %s must be >= 0", p);
    }
    if (!s.hasKnownRank()) {
      return one(c.dtype(0), Shape.unknownDims(p.size() / 2));
    }
    int[] out = s.dims();
    for (int i = 0; i < out.length; i++) {
      out[i] = out[i] < 0 ? -1 : Infer.dimension(c, java.math.BigInteger.valueOf(out[i])
          .add(java.math.BigInteger.valueOf(p.get(2 * i))).add(java.math.BigInteger.valueOf(p.get(2 * i + 1))), "dimension " + i);
    }
    return one(c.dtype(0), Shape.of(out));
  }

  private static List<TensorType> oneHot(OpContext c) {
    dtypeIn(c, 0, INTEGER);
    long depth = attrLong(c, "depth");
    if (depth <= 0 || depth > Integer.MAX_VALUE) {
      throw c.error("depth must be in 1..%d, got %d", Integer.MAX_VALUE, depth);
    }
    DType d = attr(c, "dtype", DType.class);
    if (!d.isNumeric()) {
      throw c.error("dtype must be numeric, got %s", d.shortName());
    }
    attr(c, "on_value", Double.class);
    attr(c, "off_value", Double.class);
    Shape s = c.shape(0);
    if (!s.hasKnownRank()) {
      return one(d, Shape.unknown());
    }
    int[] in = s.dims();
    int[] out = java.util.Arrays.copyOf(in, in.length + 1);
    out[in.length] = (int) depth;
    return one(d, Shape.of(out));
  }
}
