package dev.kiln.optimizer;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Tensor;
import java.util.List;

/**
 * Computes one operation on constant inputs, for {@link ConstantFold}. The optimizer does not know
 * any kernels: a runtime implements this with its own (the CPU runtime's {@code CpuConstantEvaluator}).
 */
@FunctionalInterface
public interface ConstantEvaluator {
  /**
   * The values of {@code op}'s outputs when its inputs hold {@code inputs} (one per input, in order).
   * Throws any RuntimeException when the op cannot be evaluated (no kernel, a kernel error such as
   * integer division by zero); the folder then leaves the node for the run to compute.
   */
  List<Tensor> evaluate(Operation op, List<Tensor> inputs);

  /** An evaluator that evaluates nothing: with it, folding leaves every node in place. */
  static ConstantEvaluator none() {
    return (op, inputs) -> {
      throw new UnsupportedOperationException("no constant evaluator");
    };
  }
}
