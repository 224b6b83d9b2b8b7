package dev.kiln.graph;

import dev.kiln.graph.AttrDef.Constraint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The op types the optimizer's fusion passes produce, defined here so that every runtime, the text
 * format and the verifier know them.
 *
 * <ul>
 *   <li>{@code Fused}: a group of elementwise ops run as one kernel. It owns one {@link Subgraph}
 *       whose parameters stand, in order, for the node's inputs (same dtypes) and whose results are
 *       the node's outputs. Every body node is a Parameter, a scalar Const, an ELEMENTWISE op
 *       (NumPy broadcasting allowed), so each of its values has the shape of the broadcast of the
 *       inputs it depends on, or a reduction ({@link #REDUCTIONS}, attrs axes and keep_dims) of
 *       such a value that no body node reads: a reduction ends a chain, so the kernel can fold it
 *       while it computes its input, which is never materialized unless it is a result too.
 *   <li>{@code FusedMatMul}: {@code activation(matmul(a, b) + bias)} — inputs a, b and optionally a
 *       bias that broadcasts to the product; attrs transpose_a, transpose_b, activation (none, relu,
 *       sigmoid, tanh). Grappler's {@code _FusedMatMul}.
 *   <li>{@code Gemm}: {@code alpha * matmul(a, b) + beta * c} (BLAS's gemm) — inputs a, b and c of
 *       the product's shape (no broadcasting); attrs transpose_a, transpose_b, alpha and beta (float
 *       numbers, default 1). What a gradient-descent update {@code w - lr * matmul(a, b)} becomes, so
 *       that one BLAS call accumulates the product into the variable.
 * </ul>
 */
final class FusedOps {
  static final List<String> ACTIVATIONS = List.of("none", "relu", "sigmoid", "tanh");

  /** The reductions a Fused body may end in. */
  static final Set<String> REDUCTIONS = Set.of("Sum", "Mean", "Max", "Min", "Prod");

  private FusedOps() {}

  static void define(List<OpDef> defs) {
    defs.add(new OpSpec("Fused", 0, BuiltinOps.VARIADIC, Set.of(OpTrait.ELEMENTWISE), FusedOps::fused));
    defs.add(new OpSpec("FusedMatMul", 2, 3, Set.of(), AttrSchema.of(BuiltinOps.TRANSPOSE_A, BuiltinOps.TRANSPOSE_B,
        AttrDef.optional("activation", AttrType.STRING, "none").constrained(Constraint.oneOf(ACTIVATIONS.toArray()))),
        FusedOps::fusedMatMul));
    AttrDef alpha = AttrDef.optional("alpha", AttrType.FLOAT, 1.0).constrained(Constraint.finite());
    AttrDef beta = AttrDef.optional("beta", AttrType.FLOAT, 1.0).constrained(Constraint.finite());
    defs.add(new OpSpec("Gemm", 3, 3, Set.of(), AttrSchema.of(BuiltinOps.TRANSPOSE_A, BuiltinOps.TRANSPOSE_B, alpha, beta),
        FusedOps::gemm));
  }

  private static List<TensorType> fused(OpContext c) {
    if (c.subgraphs().size() != 1) {
      throw c.error("expects exactly one body subgraph, got %d", c.subgraphs().size());
    }
    Subgraph body = c.subgraphs().get(0);
    if (body.parameters().size() != c.numInputs()) {
      throw c.error("body has %d parameters for %d inputs", body.parameters().size(), c.numInputs());
    }
    Map<Operation, Integer> paramIndex = new HashMap<>();
    for (int i = 0; i < c.numInputs(); i++) {
      Output p = body.parameters().get(i);
      if (p.dtype() != c.dtype(i)) {
        throw c.error("parameter %d is %s but input %d is %s", i, p.dtype().shortName(), i, c.dtype(i).shortName());
      }
      paramIndex.put(p.op(), i);
    }
    // For each body node, the set of inputs it depends on: its shape is their broadcast.
    Map<Operation, java.util.BitSet> deps = new HashMap<>();
    java.util.Set<Operation> reductions = new java.util.HashSet<>();
    for (Operation op : body.graph().operations()) {
      java.util.BitSet d = new java.util.BitSet();
      if (op.type().equals("Parameter")) {
        Integer k = paramIndex.get(op);
        if (k == null) {
          throw c.error("body Parameter '%s' is not one of the body's parameters", op.name());
        }
        d.set(k);
      } else if (op.type().equals("Const")) {
        if (op.outputType(0).shape().rank() != 0) {
          throw c.error("body Const '%s' must be a scalar, got %s", op.name(), op.outputType(0).shape());
        }
      } else if (REDUCTIONS.contains(op.type())) {
        reductions.add(op);
      } else if (!op.def().traits().contains(OpTrait.ELEMENTWISE) || op.type().equals("Fused")) {
        throw c.error("body node %s is not elementwise", op);
      }
      for (Output in : op.inputs()) {
        if (reductions.contains(in.op())) {
          throw c.error("body node %s reads the reduction '%s': a reduction must end its chain", op, in.op().name());
        }
        d.or(deps.get(in.op()));
      }
      deps.put(op, d);
    }
    List<TensorType> out = new ArrayList<>();
    for (Output r : body.results()) {
      Shape s = Shape.scalar();
      boolean reduction = reductions.contains(r.op());
      java.util.BitSet d = deps.get(reduction ? r.op().input(0).op() : r.op());
      for (int i = d.nextSetBit(0); i >= 0; i = d.nextSetBit(i + 1)) {
        Shape b = Shape.broadcast(s, c.shape(i));
        if (b == null) {
          throw c.error("input shapes do not broadcast: %s and %s", s, c.shape(i));
        }
        s = b;
      }
      out.add(new TensorType(r.dtype(), reduction ? reduced(c, r.op(), s) : s));
    }
    return out;
  }

  /** The shape of body reduction {@code r} over a value of shape {@code s}. */
  private static Shape reduced(OpContext c, Operation r, Shape s) {
    if (!s.hasKnownRank()) {
      return Shape.unknown();
    }
    int rank = s.rank();
    boolean[] axis = new boolean[rank];
    for (long a : r.attrs().getLongs("axes")) {
      long k = a < 0 ? a + rank : a;
      if (k < 0 || k >= rank) {
        throw c.error("body reduction '%s': axis %d is out of range for %s", r.name(), a, s);
      }
      axis[(int) k] = true;
    }
    boolean keep = r.attrs().find("keep_dims").map(Boolean.class::cast).orElse(false);
    List<Integer> dims = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      if (!axis[i]) {
        dims.add(s.dim(i));
      } else if (keep) {
        dims.add(1);
      }
    }
    return Shape.of(dims.stream().mapToInt(Integer::intValue).toArray());
  }

  private static List<TensorType> fusedMatMul(OpContext c) {
    List<TensorType> mm = OpRegistry.get("MatMul").infer(
        new OpContext(c.opType(), c.nodeName(), c.inputs().subList(0, 2), c.attrs()));
    TensorType t = mm.get(0);
    if (!t.dtype().isFloating()) {
      throw c.error("inputs must be float (f32, f64, f16, bf16), got %s", t.dtype().shortName());
    }
    if (c.numInputs() == 3) {
      if (c.dtype(2) != t.dtype()) {
        throw c.error("dtypes differ: %s vs %s", t.dtype().shortName(), c.dtype(2).shortName());
      }
      Shape b = Shape.broadcast(t.shape(), c.shape(2));
      if (b == null || (b.hasKnownRank() && b.rank() != 2)) {
        throw c.error("bias %s does not broadcast to the product %s", c.shape(2), t.shape());
      }
      Shape bs = c.shape(2);
      if (bs.hasKnownRank() && bs.rank() >= 1 && bs.dim(-1) > 1 && t.shape().dim(1) >= 0 && bs.dim(-1) != t.shape().dim(1)) {
        throw c.error("bias %s does not broadcast to the product %s", bs, t.shape());
      }
    }
    return mm;
  }

  private static List<TensorType> gemm(OpContext c) {
    TensorType product = OpRegistry.get("MatMul").infer(
        new OpContext(c.opType(), c.nodeName(), c.inputs().subList(0, 2), c.attrs())).get(0);
    if (!product.dtype().isFloating()) {
      throw c.error("inputs must be float (f32, f64, f16, bf16), got %s", product.dtype().shortName());
    }
    if (c.dtype(2) != product.dtype()) {
      throw c.error("dtypes differ: %s vs %s", product.dtype().shortName(), c.dtype(2).shortName());
    }
    if (!c.shape(2).isCompatibleWith(product.shape()) || (c.shape(2).hasKnownRank() && c.shape(2).rank() != 2)) {
      throw c.error("c %s does not have the product's shape %s", c.shape(2), product.shape());
    }
    return List.of(new TensorType(product.dtype(), product.shape().mergeWith(c.shape(2))));
  }
}
