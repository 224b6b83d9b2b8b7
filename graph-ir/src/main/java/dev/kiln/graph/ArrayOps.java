package dev.kiln.graph;

import static dev.kiln.graph.AttrDef.optional;
import static dev.kiln.graph.AttrDef.required;
import static dev.kiln.graph.Infer.INTEGER;
import static dev.kiln.graph.Infer.NUMERIC;
import static dev.kiln.graph.Infer.attrLong;
import static dev.kiln.graph.Infer.attrLongs;
import static dev.kiln.graph.Infer.axis;
import static dev.kiln.graph.Infer.dtypeIn;
import static dev.kiln.graph.Infer.one;
import static dev.kiln.graph.Infer.sameDType;

import dev.kiln.graph.AttrDef.Constraint;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Array op types with TensorFlow's semantics: gathers and scatters, batched products, tiling and
 * broadcasting, cumulative sums, top-k, ranges and argMin. Inference here, gradients in
 * {@link ArrayGradients}.
 */
final class ArrayOps {
  private ArrayOps() {}

  static void define(List<OpDef> defs) {
    AttrSchema axis0 = AttrSchema.of(optional("axis", AttrType.INT, 0L));
    defs.add(op("Gather", 2, 2, axis0, ArrayOps::gather, ArrayGradients::gather));
    defs.add(op("GatherGrad", 3, 3, axis0, ArrayOps::gatherGrad, ArrayGradients::gatherGrad));
    defs.add(op("GatherNd", 2, 2, AttrSchema.none(), ArrayOps::gatherNd, ArrayGradients::gatherNd));
    defs.add(op("ScatterNd", 2, 3, AttrSchema.of(optional("shape", AttrType.SHAPE)), ArrayOps::scatterNd,
        ArrayGradients::scatterNd));
    defs.add(op("BatchMatMul", 2, 2, AttrSchema.of(BuiltinOps.TRANSPOSE_A, BuiltinOps.TRANSPOSE_B),
        ArrayOps::batchMatMul, ArrayGradients::batchMatMul));
    defs.add(op("Tile", 1, 1, AttrSchema.of(required("multiples", AttrType.INT_LIST)), ArrayOps::tile,
        ArrayGradients::tile));
    defs.add(op("BroadcastTo", 1, 1, AttrSchema.of(required("shape", AttrType.SHAPE)), ArrayOps::broadcastTo,
        ArrayGradients::broadcastTo));
    defs.add(op("Cumsum", 1, 1, AttrSchema.of(optional("axis", AttrType.INT, 0L),
        optional("exclusive", AttrType.BOOL, false), optional("reverse", AttrType.BOOL, false)),
        ArrayOps::cumsum, ArrayGradients::cumsum));
    defs.add(op("TopK", 1, 1, AttrSchema.of(
        required("k", AttrType.INT).constrained(Constraint.range(0, Integer.MAX_VALUE)),
        optional("sorted", AttrType.BOOL, true)), ArrayOps::topK, ArrayGradients::topK));
    defs.add(new DefinedOp("Range", 0, 0, AttrSchema.of(required("start", AttrType.FLOAT).constrained(Constraint.finite()),
        required("limit", AttrType.FLOAT).constrained(Constraint.finite()),
        required("delta", AttrType.FLOAT).constrained(Constraint.finite()),
        optional("dtype", AttrType.DTYPE, DType.INT32).constrained(
            Constraint.oneOf(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64))),
        ArrayOps::range, Optional.of(GradientFunction.NONE)));
    defs.add(new DefinedOp("ArgMin", 1, 1, AttrSchema.of(required("axis", AttrType.INT),
        optional("output_type", AttrType.DTYPE, DType.INT64).constrained(Constraint.oneOf(DType.INT32, DType.INT64))),
        ArrayOps::argMin, Optional.of(GradientFunction.NONE)));
  }

  private static OpDef op(String type, int min, int max, AttrSchema schema, OpSpec.Inference inference,
      ArrayGradients.Grad grad) {
    return new DefinedOp(type, min, max, schema, inference, Optional.of(ArrayGradients.of(grad)));
  }

  // ---------------------------------------------------------------- gathers and scatters

  /** params[:axis] + indices + params[axis+1:]. */
  private static List<TensorType> gather(OpContext c) {
    DType d = c.dtype(0);
    dtypeIn(c, 1, INTEGER);
    Shape p = c.shape(0);
    Shape idx = c.shape(1);
    long a = attrLong(c, "axis");
    if (!p.hasKnownRank()) {
      return one(d, Shape.unknown());
    }
    if (p.rank() == 0) {
      throw c.error("params must have rank >= 1, got a scalar");
    }
    int k = axis(c, a, p.rank(), p);
    checkConstantIndices(c, 1, p.dim(k), "axis " + k + " of params " + p);
    if (!idx.hasKnownRank()) {
      return one(d, Shape.unknown());
    }
    return one(d, gatherShape(c, p, k, idx));
  }

  private static Shape gatherShape(OpContext c, Shape p, int k, Shape idx) {
    int[] pd = p.dims();
    int[] id = idx.dims();
    int[] out = new int[pd.length - 1 + id.length];
    System.arraycopy(pd, 0, out, 0, k);
    System.arraycopy(id, 0, out, k, id.length);
    System.arraycopy(pd, k + 1, out, k + id.length, pd.length - k - 1);
    Shape s = Shape.of(out);
    if (s.isFullyDefined() && !s.fitsInTensor()) {
      throw c.error("result %s has more elements than a tensor can hold (%d)", s, Shape.MAX_ELEMENTS);
    }
    return s;
  }

  /** Constant indices are checked when the node is built, naming the first one out of range. */
  private static void checkConstantIndices(OpContext c, int input, int bound, String what) {
    Operation src = c.inputs().get(input).op();
    if (bound < 0 || !src.type().equals("Const")) {
      return;
    }
    Tensor t = src.attrs().getTensor("value");
    for (int i = 0; i < t.size(); i++) {
      long v = (long) t.getDouble(i);
      if (v < 0 || v >= bound) {
        throw c.error("index %d (element %d of indices) is out of range [0, %d) for %s", v, i, bound, what);
      }
    }
  }

  /** The gradient of Gather: g (gather's output shape) summed into a zero tensor of params' shape. */
  private static List<TensorType> gatherGrad(OpContext c) {
    DType d = dtypeIn(c, 0, NUMERIC);
    dtypeIn(c, 1, INTEGER);
    Shape p = c.shape(2);
    if (p.hasKnownRank() && c.shape(1).hasKnownRank()) {
      if (p.rank() == 0) {
        throw c.error("params must have rank >= 1, got a scalar");
      }
      int k = axis(c, attrLong(c, "axis"), p.rank(), p);
      Shape expected = gatherShape(c, p, k, c.shape(1));
      if (!expected.isCompatibleWith(c.shape(0))) {
        throw c.error("gradient has shape %s, expected %s (gather of %s by indices %s along axis %d)",
            c.shape(0), expected, p, c.shape(1), k);
      }
    }
    return one(d, p);
  }

  /** indices [..., q] picks slices params[i0, ..., iq-1]: the result is indices[:-1] + params[q:]. */
  private static List<TensorType> gatherNd(OpContext c) {
    DType d = c.dtype(0);
    dtypeIn(c, 1, INTEGER);
    Shape p = c.shape(0);
    Shape idx = c.shape(1);
    if (!idx.hasKnownRank() || !p.hasKnownRank()) {
      return one(d, Shape.unknown());
    }
    int q = indexDepth(c, idx, p, "params");
    int[] out = concat(Arrays.copyOf(idx.dims(), idx.rank() - 1), Arrays.copyOfRange(p.dims(), q, p.rank()));
    return one(d, Shape.of(out));
  }

  /** The last dimension of nd-indices: known, and at most the rank of what they index. */
  private static int indexDepth(OpContext c, Shape idx, Shape target, String what) {
    if (idx.rank() == 0) {
      throw c.error("indices must have rank >= 1 (the last axis holds an index tuple), got a scalar");
    }
    int q = idx.dim(idx.rank() - 1);
    if (q < 0) {
      throw c.error("the last dimension of indices %s (the index depth) must be known", idx);
    }
    if (q > target.rank()) {
      throw c.error("indices %s index %d dimensions, but %s %s has rank %d", idx, q, what, target, target.rank());
    }
    return q;
  }

  /** A zero tensor of the given shape (attribute) or like's shape, with updates added at indices. */
  private static List<TensorType> scatterNd(OpContext c) {
    dtypeIn(c, 0, INTEGER);
    DType d = dtypeIn(c, 1, NUMERIC);
    boolean hasShape = c.attrs().has("shape");
    if (hasShape == (c.numInputs() == 3)) {
      throw c.error("give the result's shape either as the attribute 'shape' or as a third input (like), "
          + "not %s", hasShape ? "both" : "neither");
    }
    Shape out = hasShape ? Infer.requireDefinedAttrShape(c, "shape") : c.shape(2);
    Shape idx = c.shape(0);
    Shape upd = c.shape(1);
    if (idx.hasKnownRank() && out.hasKnownRank()) {
      int q = indexDepth(c, idx, out, "the result");
      if (upd.hasKnownRank()) {
        Shape expected = Shape.of(concat(Arrays.copyOf(idx.dims(), idx.rank() - 1),
            Arrays.copyOfRange(out.dims(), q, out.rank())));
        if (!expected.isCompatibleWith(upd)) {
          throw c.error("updates have shape %s, expected %s (indices %s into %s)", upd, expected, idx, out);
        }
      }
    }
    return one(d, out);
  }

  // ---------------------------------------------------------------- batched products

  /** [..., m, k] x [..., k, n] with the batch dimensions broadcast (NumPy's matmul). */
  private static List<TensorType> batchMatMul(OpContext c) {
    DType d = sameDType(c, 0, NUMERIC);
    boolean ta = Infer.attrBool(c, "transpose_a", false);
    boolean tb = Infer.attrBool(c, "transpose_b", false);
    Shape a = c.shape(0);
    Shape b = c.shape(1);
    for (int i = 0; i < 2; i++) {
      if (c.shape(i).hasKnownRank() && c.shape(i).rank() < 2) {
        throw c.error("input %d must have rank >= 2 (a matrix or a batch of matrices), got %s", i, c.shape(i));
      }
    }
    if (!a.hasKnownRank() || !b.hasKnownRank()) {
      return one(d, Shape.unknown());
    }
    int ra = a.rank();
    int rb = b.rank();
    Shape batchA = Shape.of(Arrays.copyOf(a.dims(), ra - 2));
    Shape batchB = Shape.of(Arrays.copyOf(b.dims(), rb - 2));
    Shape batch = Shape.broadcast(batchA, batchB);
    if (batch == null) {
      throw c.error("batch dimensions %s of %s and %s of %s do not broadcast", batchA, a, batchB, b);
    }
    int m = a.dim(ta ? ra - 1 : ra - 2);
    int ka = a.dim(ta ? ra - 2 : ra - 1);
    int kb = b.dim(tb ? rb - 1 : rb - 2);
    int n = b.dim(tb ? rb - 2 : rb - 1);
    if (ka >= 0 && kb >= 0 && ka != kb) {
      throw c.error("inner dimensions differ: %s%s x %s%s", a, ta ? "^T" : "", b, tb ? "^T" : "");
    }
    Shape out = Shape.of(concat(batch.dims(), new int[] {m, n}));
    if (out.isFullyDefined() && !out.fitsInTensor()) {
      throw c.error("result %s has more elements than a tensor can hold (%d)", out, Shape.MAX_ELEMENTS);
    }
    return one(d, out);
  }

  // ---------------------------------------------------------------- tiling and broadcasting

  private static List<TensorType> tile(OpContext c) {
    Shape s = c.shape(0);
    List<Long> mult = attrLongs(c, "multiples");
    if (mult.stream().anyMatch(m -> m < 0)) {
      throw c.error("multiples %s must be >= 0", mult);
    }
    if (!s.hasKnownRank()) {
      return one(c.dtype(0), Shape.unknownDims(mult.size()));
    }
    if (mult.size() != s.rank()) {
      throw c.error("multiples %s has %d entries for rank %d input %s", mult, mult.size(), s.rank(), s);
    }
    int[] out = s.dims();
    for (int i = 0; i < out.length; i++) {
      out[i] = out[i] < 0 ? -1
          : Infer.dimension(c, BigInteger.valueOf(out[i]).multiply(BigInteger.valueOf(mult.get(i))), "dimension " + i);
    }
    Shape r = Shape.of(out);
    if (r.isFullyDefined() && !r.fitsInTensor()) {
      throw c.error("result %s has more elements than a tensor can hold (%d)", r, Shape.MAX_ELEMENTS);
    }
    return one(c.dtype(0), r);
  }

  private static List<TensorType> broadcastTo(OpContext c) {
    Shape target = Infer.requireDefinedAttrShape(c, "shape");
    Shape s = c.shape(0);
    Shape b = Shape.broadcast(s, target);
    if (b == null || (s.hasKnownRank() && !b.isCompatibleWith(target)) || (s.hasKnownRank() && s.rank() > target.rank())) {
      throw c.error("cannot broadcast %s to %s", s, target);
    }
    return one(c.dtype(0), target);
  }

  // ---------------------------------------------------------------- scans, selections, ranges

  private static List<TensorType> cumsum(OpContext c) {
    DType d = dtypeIn(c, 0, NUMERIC);
    Shape s = c.shape(0);
    if (s.hasKnownRank()) {
      if (s.rank() == 0) {
        throw c.error("input must have rank >= 1, got a scalar");
      }
      axis(c, attrLong(c, "axis"), s.rank(), s);
    }
    return one(d, s);
  }

  /** The k largest along the last axis: values and their int32 indices, each [..., k]. */
  private static List<TensorType> topK(OpContext c) {
    DType d = dtypeIn(c, 0, NUMERIC);
    long k = attrLong(c, "k");
    Shape s = c.shape(0);
    if (!s.hasKnownRank()) {
      return List.of(new TensorType(d, Shape.unknown()), new TensorType(DType.INT32, Shape.unknown()));
    }
    if (s.rank() == 0) {
      throw c.error("input must have rank >= 1, got a scalar");
    }
    int last = s.dim(s.rank() - 1);
    if (last >= 0 && k > last) {
      throw c.error("k = %d is more than the last dimension of %s (%d)", k, s, last);
    }
    Shape out = s.withDim(s.rank() - 1, (int) k);
    return List.of(new TensorType(d, out), new TensorType(DType.INT32, out));
  }

  private static List<TensorType> range(OpContext c) {
    double start = c.attrs().getDouble("start");
    double limit = c.attrs().getDouble("limit");
    double delta = c.attrs().getDouble("delta");
    if (delta == 0) {
      throw c.error("delta must not be 0");
    }
    double n = Math.max(0, Math.ceil((limit - start) / delta));
    if (n > Shape.MAX_ELEMENTS) {
      throw c.error("range %s..%s by %s has %.0f elements, more than a tensor can hold (%d)",
          start, limit, delta, n, Shape.MAX_ELEMENTS);
    }
    return one(c.attrs().getDType("dtype"), Shape.of((int) n));
  }

  private static List<TensorType> argMin(OpContext c) {
    dtypeIn(c, 0, NUMERIC);
    DType outType = c.attrs().getDType("output_type");
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

  static int[] concat(int[] a, int[] b) {
    int[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
