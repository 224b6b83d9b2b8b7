package dev.kiln.graph;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An op type: its name, how many inputs it takes, the attributes it takes, and how it checks them and
 * infers its outputs' types. Implementations must be stateless; register them with {@link OpRegistry}.
 *
 * <p>An op type declares its attributes with {@link #attrSchema}, e.g.
 * {@code AttrSchema.of(AttrDef.required("axis", AttrType.INT), AttrDef.optional("keep_dims", AttrType.BOOL,
 * false))}. Nodes are then checked against it as they are built (in code and in the text format): an
 * undeclared name, a value of another type or a missing required attribute is an error, and an
 * attribute left out gets its default, so {@link #infer} and kernels see every attribute that has one.
 */
public interface OpDef {
  /** The op type's name, e.g. {@code MatMul}. */
  String type();

  /**
   * The attributes this op type takes. The default, for op types written before schemas existed, is
   * {@link AttrSchema#unchecked()}: any attribute is accepted and none is checked or defaulted, so
   * {@link #infer} must check what it reads. Return {@link AttrSchema#none()} for an op type that
   * takes no attributes, so that a misspelled one is an error rather than silently ignored. Called for
   * every attribute set and every node built: return a constant.
   */
  default AttrSchema attrSchema() {
    return AttrSchema.unchecked();
  }

  /** Fewest inputs. */
  int minInputs();

  /** Most inputs; {@link Integer#MAX_VALUE} for variadic ops. */
  int maxInputs();

  /**
   * Checks inputs and attributes and returns the output types. Throws the exception of
   * {@link OpContext#error} for anything wrong. Called with the inputs' static types at graph-building
   * time, and again with concrete shapes when a runtime compiles a plan.
   */
  List<TensorType> infer(OpContext ctx);

  default Set<OpTrait> traits() {
    return Set.of();
  }

  /**
   * False when input {@code i} is not read as a value when the op runs: a Variable's initial value
   * (read only by its initializer) and the variable operand of Assign (written, not read).
   */
  default boolean readsInput(int i) {
    return true;
  }

  default boolean isStateful() {
    return traits().contains(OpTrait.STATEFUL);
  }

  /**
   * The scalar primitive a node of this type computes elementwise ({@link ElementwiseOp}); empty for
   * every other op type. Devices and passes dispatch on it rather than on the type's name.
   */
  default Optional<Primitive> primitive() {
    return Optional.empty();
  }

  /**
   * The op type's own gradient, if it supplies one; otherwise {@link Ops#gradients} uses the one
   * registered with {@link OpRegistry#registerGradient}, if any.
   */
  default Optional<GradientFunction> gradient() {
    return Optional.empty();
  }
}
