package dev.kiln.graph;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What devices and passes need of {@link ElementwiseOp}s: whether a node is a composite, and its
 * expansion into primitive nodes, in a Fused body ({@link #lower}) or as a Fused node of its own
 * ({@link #asFused}).
 */
public final class Elementwise {
  private Elementwise() {}

  /** Whether nodes of {@code opType} are composites: built from primitives, with no kernel of their own. */
  public static boolean isComposite(String opType) {
    return OpRegistry.find(opType).orElse(null) instanceof ElementwiseOp e && e.isComposite();
  }

  /** The primitive {@code op} computes, if it is a primitive node (from its definition). */
  public static java.util.Optional<Primitive> primitive(Operation op) {
    return op.def().primitive();
  }

  /** Whether {@code op} computes primitive {@code p}. */
  public static boolean is(Operation op, Primitive p) {
    return op.def().primitive().orElse(null) == p;
  }

  /**
   * The primitive a FusedMatMul {@code activation} attribute value applies to the product: relu,
   * sigmoid or tanh ({@link Primitive#isActivation}, named in lower case); empty for none.
   *
   * @throws IllegalArgumentException for any other value
   */
  public static java.util.Optional<Primitive> activation(String attr) {
    if (attr.equals("none")) {
      return java.util.Optional.empty();
    }
    for (Primitive p : Primitive.values()) {
      if (p.isActivation() && p.name().toLowerCase(java.util.Locale.ROOT).equals(attr)) {
        return java.util.Optional.of(p);
      }
    }
    throw new IllegalArgumentException("unknown activation '" + attr + "'");
  }

  /** The activation FusedMatMul node {@code op} applies (its {@code activation} attribute). */
  public static java.util.Optional<Primitive> activation(Operation op) {
    return activation(op.attrs().find("activation").map(Object::toString).orElse("none"));
  }

  /** The FusedMatMul {@code activation} attribute value applying {@code p}, an activation primitive. */
  public static String activationAttr(Primitive p) {
    if (!p.isActivation()) {
      throw new IllegalArgumentException(p + " is not an activation of a fused product");
    }
    return p.name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * {@code body} with every composite node replaced by its expansion (node names keep the
   * composite's as a prefix); {@code body} itself when it has none.
   */
  public static Subgraph lower(Subgraph body) {
    if (body.graph().operations().stream().noneMatch(o -> isComposite(o.type()))) {
      return body;
    }
    Graph g = new Graph();
    Map<Output, Output> map = new HashMap<>();
    for (Operation op : body.graph().operations()) {
      List<Output> ins = new ArrayList<>();
      op.inputs().forEach(in -> ins.add(map.get(in)));
      Output out;
      if (isComposite(op.type())) {
        ElementwiseOp def = (ElementwiseOp) op.def();
        out = def.expansion().orElseThrow().expand(Ops.create(g).withSubScope(op.name()), ins, op.attrs());
      } else {
        OperationBuilder b = g.opBuilder(op.type(), op.name()).setAttrs(op.attrs());
        ins.forEach(b::addInput);
        out = b.build().output(0);
      }
      map.put(op.output(0), out);
    }
    Subgraph lowered = new Subgraph(g, body.parameters().stream().map(map::get).toList(),
        body.results().stream().map(map::get).toList());
    return lower(lowered); // an expansion may itself use a composite
  }

  /**
   * A Fused node computing {@code op} (an elementwise node of one output) from its expansion, in a
   * graph of its own whose Placeholders stand for op's inputs: how a device without a kernel of
   * op's type runs a composite node.
   */
  public static Operation asFused(Operation op) {
    Graph body = new Graph();
    Graph outer = new Graph();
    List<Output> params = new ArrayList<>();
    OperationBuilder fused = outer.opBuilder("Fused", op.name());
    for (int i = 0; i < op.numInputs(); i++) {
      TensorType t = op.input(i).type();
      params.add(body.opBuilder("Parameter", "in" + i).setAttr("dtype", t.dtype()).setAttr("shape", t.shape())
          .build().output(0));
      fused.addInput(outer.opBuilder("Placeholder", "in" + i).setAttr("dtype", t.dtype()).setAttr("shape", t.shape())
          .build().output(0));
    }
    OperationBuilder b = body.opBuilder(op.type(), op.name()).setAttrs(op.attrs());
    params.forEach(b::addInput);
    Subgraph one = new Subgraph(body, params, List.of(b.build().output(0)));
    return fused.addSubgraph(lower(one)).build();
  }
}
