package dev.kiln.runtime.plan;

import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;

/**
 * What a device tells the shared plan layer about its storage: which nodes alias their input's
 * storage (so a read through them is a read of a variable), and which kernels may write their result
 * straight into the variable an Assign stores it in. The defaults: VIEW ops alias, nothing writes
 * into a variable directly.
 */
public interface PlanRules {
  /** Rules of a device whose VIEW ops all alias and whose kernels never write into a variable. */
  PlanRules VIEWS_ONLY = new PlanRules() {};

  /** Whether {@code op}'s output is its first input's storage. */
  default boolean isView(Operation op) {
    return op.def().traits().contains(OpTrait.VIEW);
  }

  /**
   * Whether {@code producer}'s kernel may write its result into a variable's storage: a kernel that
   * cannot fail midway (so a failed run leaves the variable as it was).
   */
  default boolean writesIntoVariable(Operation producer) {
    return false;
  }

  /** Whether {@code producer}'s kernel may write its output over its input {@code input}. */
  default boolean allowsInPlace(Operation producer, int input) {
    return false;
  }
}
