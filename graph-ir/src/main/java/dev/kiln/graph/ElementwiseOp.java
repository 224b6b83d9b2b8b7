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
 * broadcasting over all inputs; the output's dtype follows its {@link Typing} (for composites, the
 * inputs' dtype). Devices never see a composite
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
 * @param typing how the inputs' dtypes are checked and the output's dtype is found
 * @param commutative whether swapping its two inputs gives the same result
 */
public record ElementwiseOp(String type, int arity, Set<DType> dtypes, AttrSchema attrSchema,
    Optional<Primitive> primitive, Optional<Expansion> expansion, Optional<GradientFunction> gradient,
    Typing typing, boolean commutative) implements OpDef {

  /** How an elementwise op types its inputs and its output ({@code dtypes} is the op's allowed set). */
  public enum Typing {
    /** All inputs share one dtype of {@code dtypes}; the output has it. */
    SAME,
    /** All inputs share one dtype of {@code dtypes}; the output is bool (comparisons). */
    COMPARE,
    /** One input of any dtype of {@code dtypes}; the output has the dtype of attribute {@code dtype}. */
    CAST,
    /** A bool condition, then two values of one dtype of {@code dtypes}; the output has theirs. */
    SELECT,
    /** One or more inputs of one dtype and one shape (no broadcasting); the output has both. */
    SUM
  }

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
    Objects.requireNonNull(typing, "typing");
    primitive.ifPresent(p -> {
      if (!p.opType().equals(type) || p.arity() != arity) {
        throw new IllegalArgumentException(type + ": primitive " + p + " is op type " + p.opType() + " of arity "
            + p.arity());
      }
    });
  }

  /** The op type computing {@code p}, taking {@code dtypes}, with no attributes. */
  static ElementwiseOp primitive(Primitive p, Set<DType> dtypes, Optional<GradientFunction> gradient) {
    return primitive(p, dtypes, Typing.SAME, false, gradient);
  }

  /**
   * The op type computing {@code p}, typed by {@code typing}, with no attributes but Cast's dtype; its
   * gradient, if any, registered with {@link OpRegistry#registerGradient}.
   */
  static ElementwiseOp primitive(Primitive p, Set<DType> dtypes, Typing typing, boolean commutative) {
    return primitive(p, dtypes, typing, commutative, Optional.empty());
  }

  private static ElementwiseOp primitive(Primitive p, Set<DType> dtypes, Typing typing, boolean commutative,
      Optional<GradientFunction> gradient) {
    AttrSchema attrs = typing == Typing.CAST
        ? AttrSchema.of(AttrDef.required("dtype", AttrType.DTYPE)) : AttrSchema.none();
    return new ElementwiseOp(p.opType(), p.arity(), dtypes, attrs, Optional.of(p), Optional.empty(), gradient, typing,
        commutative);
  }

  /** A composite op type: {@code expansion} over primitives. */
  static ElementwiseOp composite(String type, int arity, Set<DType> dtypes, AttrSchema attrs, Expansion expansion,
      Optional<GradientFunction> gradient) {
    return new ElementwiseOp(type, arity, dtypes, attrs, Optional.empty(), Optional.of(expansion), gradient,
        Typing.SAME, false);
  }

  public boolean isComposite() {
    return expansion.isPresent();
  }

  @Override
  public int minInputs() {
    return arity < 0 ? 1 : arity;
  }

  @Override
  public int maxInputs() {
    return arity < 0 ? Integer.MAX_VALUE : arity;
  }

  private static final Set<OpTrait> ELEMENTWISE = Set.copyOf(EnumSet.of(OpTrait.ELEMENTWISE));
  private static final Set<OpTrait> COMMUTATIVE = Set.copyOf(EnumSet.of(OpTrait.ELEMENTWISE, OpTrait.COMMUTATIVE));

  @Override
  public Set<OpTrait> traits() {
    return commutative ? COMMUTATIVE : ELEMENTWISE;
  }

  @Override
  public List<TensorType> infer(OpContext c) {
    return switch (typing) {
      case SAME -> Infer.one(Infer.sameDType(c, 0, dtypes), Infer.broadcast(c, 0));
      case COMPARE -> {
        Infer.sameDType(c, 0, dtypes);
        yield Infer.one(DType.BOOL, Infer.broadcast(c, 0));
      }
      case CAST -> Infer.one(Infer.attr(c, "dtype", DType.class), c.shape(0));
      case SELECT -> {
        Infer.dtypeIn(c, 0, Infer.BOOL);
        yield Infer.one(Infer.sameDType(c, 1, dtypes), Infer.broadcast(c, 0));
      }
      case SUM -> sum(c);
    };
  }

  private List<TensorType> sum(OpContext c) {
    DType d = Infer.sameDType(c, 0, dtypes);
    Shape s = c.shape(0);
    for (int i = 1; i < c.numInputs(); i++) {
      if (!s.isCompatibleWith(c.shape(i))) {
        throw c.error("input %d has shape %s, expected %s like the inputs before it", i, c.shape(i), s);
      }
      s = s.mergeWith(c.shape(i));
    }
    return Infer.one(d, s);
  }
}
