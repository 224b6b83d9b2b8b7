package dev.kiln.graph;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The scalar operations every device implements itself, one loop or C expression each: the closed
 * set that composite elementwise ops ({@link ElementwiseOp#composite}) are written in. Each is also
 * an op type of the same name in CamelCase ({@code TRUNCATE_MOD} is {@code TruncateMod}), so a
 * Fused body of primitives is an ordinary graph. A device adds a primitive in one table of its own;
 * a composite op needs no device code at all.
 */
public enum Primitive {
  NEG(1), ABS(1), SIGN(1), SQUARE(1), SQRT(1), RSQRT(1), RECIPROCAL(1), EXP(1), LOG(1), SIN(1), COS(1),
  SIGMOID(1), TANH(1), RELU(1), FLOOR(1), CEIL(1), ROUND(1), LOGICAL_NOT(1), CAST(1), ZEROS_LIKE(1), ONES_LIKE(1),
  ADD(2), SUB(2), MUL(2), DIV(2), POW(2), MAXIMUM(2), MINIMUM(2), TRUNCATE_MOD(2),
  LESS(2), LESS_EQUAL(2), GREATER(2), GREATER_EQUAL(2), EQUAL(2), NOT_EQUAL(2), LOGICAL_AND(2), LOGICAL_OR(2),
  SELECT(3),
  /** The sum of one or more inputs of one shape, added left to right. */
  ADD_N(-1);

  private final int arity;
  private final String opType;

  Primitive(int arity) {
    this.arity = arity;
    this.opType = Arrays.stream(name().split("_"))
        .map(w -> w.charAt(0) + w.substring(1).toLowerCase(Locale.ROOT)).collect(Collectors.joining());
  }

  private static final Map<String, Primitive> BY_TYPE =
      Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Primitive::opType, Function.identity()));

  /** The op type of a node computing this primitive. */
  public String opType() {
    return opType;
  }

  /** How many inputs it takes; -1 for {@link #ADD_N}, which takes one or more. */
  public int arity() {
    return arity;
  }

  public boolean isVariadic() {
    return arity < 0;
  }

  /** The float activations a fused product applies to its result (FusedMatMul's {@code activation}). */
  public boolean isActivation() {
    return this == RELU || this == SIGMOID || this == TANH;
  }

  /** Whether its result is a bool computed from operands of another dtype (a comparison). */
  public boolean isComparison() {
    return switch (this) {
      case LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL -> true;
      default -> false;
    };
  }

  /** The primitive a node of {@code opType} computes, if that op type is one. */
  public static Optional<Primitive> of(String opType) {
    return Optional.ofNullable(BY_TYPE.get(opType));
  }
}
