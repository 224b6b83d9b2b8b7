package dev.kiln.graph;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Options of {@link Ops#whileLoop(java.util.function.Function, java.util.function.Function, java.util.List,
 * WhileOptions)}: TensorFlow's {@code maximum_iterations} and {@code shape_invariants}.
 *
 * <pre>{@code
 * WhileOptions.defaults().maximumIterations(100).shapeInvariant(1, Shape.of(-1, 3))
 * }</pre>
 *
 * @param maximumIterations the loop stops after this many iterations even if its condition still
 *     holds; -1 for no bound
 * @param shapeInvariants per loop variable index, the shape every iteration's value must be an
 *     instance of (less specific than the initial value's shape for a variable whose shape changes);
 *     a variable without one keeps its initial value's shape
 */
public record WhileOptions(long maximumIterations, Map<Integer, Shape> shapeInvariants) {
  private static final WhileOptions DEFAULTS = new WhileOptions(-1, Map.of());

  public WhileOptions {
    if (maximumIterations < -1) {
      throw new IllegalArgumentException("WhileOptions: maximumIterations must be >= 0 (or -1 for none), got "
          + maximumIterations);
    }
    Objects.requireNonNull(shapeInvariants, "WhileOptions: shapeInvariants is null");
    shapeInvariants.forEach((k, v) -> {
      Objects.requireNonNull(k, "WhileOptions: a shape invariant's index is null");
      Objects.requireNonNull(v, () -> "WhileOptions: the shape invariant of loop variable " + k + " is null");
    });
    shapeInvariants = Map.copyOf(shapeInvariants);
  }

  /** No iteration bound, no shape invariants. */
  public static WhileOptions defaults() {
    return DEFAULTS;
  }

  /** These options with the loop bounded to {@code n} iterations. */
  public WhileOptions maximumIterations(long n) {
    return new WhileOptions(n, shapeInvariants);
  }

  /** These options with loop variable {@code index} declared of shape {@code shape} across iterations. */
  public WhileOptions shapeInvariant(int index, Shape shape) {
    Map<Integer, Shape> m = new TreeMap<>(shapeInvariants);
    m.put(index, Objects.requireNonNull(shape, "WhileOptions.shapeInvariant: shape is null"));
    return new WhileOptions(maximumIterations, m);
  }
}
