package dev.kiln.runtime.kernels;

import dev.kiln.graph.Primitive;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * The CPU's unfused kernel of each {@link Primitive}: the library's broadcasting loops (vectorized
 * where the Vector API is present), chosen by primitive; a primitive without a loop of its own here
 * runs as a one-node Fused kernel ({@link PrimitiveLoops}).
 */
final class PrimitiveKernels {
  private PrimitiveKernels() {}

  private static final Map<Primitive, KernelFactory> FACTORIES = factories();

  private static Map<Primitive, KernelFactory> factories() {
    Map<Primitive, KernelFactory> m = new EnumMap<>(Primitive.class);
    for (Primitive p : Primitive.values()) {
      m.put(p, create(p));
    }
    return m;
  }

  /** The kernel factory of nodes computing {@code p}. */
  static KernelFactory factory(Primitive p) {
    return FACTORIES.get(p);
  }

  private static KernelFactory create(Primitive p) {
    return switch (p) {
      case NEG -> UnaryKernels.factory(UnaryKernels.Op.NEG);
      case SQUARE -> UnaryKernels.factory(UnaryKernels.Op.SQUARE);
      case ABS -> UnaryKernels.factory(UnaryKernels.Op.ABS);
      case SIGN -> UnaryKernels.factory(UnaryKernels.Op.SIGN);
      case RELU -> UnaryKernels.factory(UnaryKernels.Op.RELU);
      case SQRT -> UnaryKernels.factory(UnaryKernels.Op.SQRT);
      case RSQRT -> UnaryKernels.factory(UnaryKernels.Op.RSQRT);
      case RECIPROCAL -> UnaryKernels.factory(UnaryKernels.Op.RECIPROCAL);
      case EXP -> UnaryKernels.factory(UnaryKernels.Op.EXP);
      case LOG -> UnaryKernels.factory(UnaryKernels.Op.LOG);
      case SIN -> UnaryKernels.factory(UnaryKernels.Op.SIN);
      case COS -> UnaryKernels.factory(UnaryKernels.Op.COS);
      case SIGMOID -> UnaryKernels.factory(UnaryKernels.Op.SIGMOID);
      case TANH -> UnaryKernels.factory(UnaryKernels.Op.TANH);
      case LOGICAL_NOT -> UnaryKernels.factory(UnaryKernels.Op.LOGICAL_NOT);
      case ZEROS_LIKE -> FillKernels.constant(false);
      case ONES_LIKE -> FillKernels.constant(true);
      case CAST -> CastKernel.factory();
      case ADD -> ArithmeticKernels.factory(ArithmeticKernels.Op.ADD);
      case SUB -> ArithmeticKernels.factory(ArithmeticKernels.Op.SUB);
      case MUL -> ArithmeticKernels.factory(ArithmeticKernels.Op.MUL);
      case DIV -> ArithmeticKernels.factory(ArithmeticKernels.Op.DIV);
      case POW -> ArithmeticKernels.factory(ArithmeticKernels.Op.POW);
      case MAXIMUM -> ArithmeticKernels.factory(ArithmeticKernels.Op.MAX);
      case MINIMUM -> ArithmeticKernels.factory(ArithmeticKernels.Op.MIN);
      case LESS -> CompareKernels.factory(CompareKernels.Op.LT, false);
      case LESS_EQUAL -> CompareKernels.factory(CompareKernels.Op.LE, false);
      case GREATER -> CompareKernels.factory(CompareKernels.Op.LT, true);
      case GREATER_EQUAL -> CompareKernels.factory(CompareKernels.Op.LE, true);
      case EQUAL -> CompareKernels.factory(CompareKernels.Op.EQ, false);
      case NOT_EQUAL -> CompareKernels.factory(CompareKernels.Op.NE, false);
      case LOGICAL_AND -> CompareKernels.factory(CompareKernels.Op.AND, false);
      case LOGICAL_OR -> CompareKernels.factory(CompareKernels.Op.OR, false);
      case SELECT -> SelectKernels.select();
      case ADD_N -> SelectKernels.addN();
      case FLOOR, CEIL, ROUND, TRUNCATE_MOD -> Kernels.asFused();
    };
  }

  /** Primitives whose loops read each element before writing the same index, from any input. */
  private static final Set<Primitive> IN_PLACE_ANY_INPUT = java.util.EnumSet.of(Primitive.NEG, Primitive.SQUARE,
      Primitive.ABS, Primitive.SIGN, Primitive.RELU, Primitive.SQRT, Primitive.RSQRT, Primitive.RECIPROCAL,
      Primitive.EXP, Primitive.LOG, Primitive.SIN, Primitive.COS, Primitive.SIGMOID, Primitive.TANH,
      Primitive.LOGICAL_NOT, Primitive.CAST, Primitive.ADD, Primitive.SUB, Primitive.MUL, Primitive.DIV,
      Primitive.POW, Primitive.MAXIMUM, Primitive.MINIMUM, Primitive.LOGICAL_AND, Primitive.LOGICAL_OR);

  /** Whether the kernel of {@code p} may write its output into input {@code input}'s array. */
  static boolean allowsInPlace(Primitive p, int input) {
    return IN_PLACE_ANY_INPUT.contains(p)
        || (p == Primitive.SELECT && input > 0) // the condition is bool, never the output's array
        || (p == Primitive.ADD_N && input == 0); // the sum accumulates into input 0's place
  }
}
