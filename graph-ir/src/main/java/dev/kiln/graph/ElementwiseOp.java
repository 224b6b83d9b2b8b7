package dev.kiln.graph;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An elementwise op type defined once: its name, arity, the dtypes it takes, its attributes, its
 * gradient and its scalar semantics — either it is a {@link Primitive} (each device implements it),
 * or it is a composite: an {@link Expansion} that builds it from primitive nodes. Shapes follow NumPy
 * broadcasting over all inputs; the output has the inputs' dtype. Devices never see a composite
 * node's type: the fuser puts its expansion into Fused bodies ({@link Elementwise#lower}), and a node
 * left unfused runs as a Fused node of its own expansion ({@link Elementwise#asFused}).
 *
 * @param type the op type's name
 * @param arity how many inputs it takes
 * @param dtypes the dtypes its inputs may have (all inputs share one)
 * @param attrSchema the attributes it takes
 * @param primitive the primitive it is, or empty for a composite
 * @param expansion its expansion into primitives, or empty for a primitive
 * @param gradient its gradient, empty where it has none (an error between xs and ys)
 */
public record ElementwiseOp(String type, int arity, Set<DType> dtypes, AttrSchema attrSchema,
    Optional<Primitive> primitive, Optional<Expansion> expansion, Optional<GradientFunction> gradient)
    implements OpDef {

  /** How a composite op is computed: primitive nodes built with {@code tf}, from its inputs {@code x}. */
  @FunctionalInterface
  public interface Expansion {
    /**
     * @param tf the scope to build primitive nodes in (any op it builds must be a {@link Primitive})
     * @param x the node's inputs, all of one dtype
     * @param attrs the node's complete attributes (defaults filled in)
     * @return the op's value, of the inputs' dtype and broadcast shape
     */
    Output expand(Ops tf, List<Output> x, Attrs attrs);
  }

  public ElementwiseOp {
    Objects.requireNonNull(type, "type");
    dtypes = Set.copyOf(dtypes);
    Objects.requireNonNull(attrSchema, "attrSchema");
    if (primitive.isPresent() == expansion.isPresent()) {
      throw new IllegalArgumentException(type + ": an elementwise op is either a primitive or a composite");
    }
    primitive.ifPresent(p -> {
      if (!p.opType().equals(type) || p.arity() != arity) {
        throw new IllegalArgumentException(type + ": primitive " + p + " is op type " + p.opType() + " of arity "
            + p.arity());
      }
    });
  }

  /** The op type computing {@code p}, taking {@code dtypes}, with no attributes. */
  static ElementwiseOp primitive(Primitive p, Set<DType> dtypes, Optional<GradientFunction> gradient) {
    return new ElementwiseOp(p.opType(), p.arity(), dtypes, AttrSchema.none(), Optional.of(p), Optional.empty(),
        gradient);
  }

  /** A composite op type: {@code expansion} over primitives. */
  static ElementwiseOp composite(String type, int arity, Set<DType> dtypes, AttrSchema attrs, Expansion expansion,
      Optional<GradientFunction> gradient) {
    return new ElementwiseOp(type, arity, dtypes, attrs, Optional.empty(), Optional.of(expansion), gradient);
  }

  public boolean isComposite() {
    return expansion.isPresent();
  }

  @Override
  public int minInputs() {
    return arity;
  }

  @Override
  public int maxInputs() {
    return arity;
  }

  @Override
  public Set<OpTrait> traits() {
    return EnumSet.of(OpTrait.ELEMENTWISE);
  }

  @Override
  public List<TensorType> infer(OpContext c) {
    DType d = Infer.sameDType(c, 0, dtypes);
    return Infer.one(d, Infer.broadcast(c, 0));
  }
}
