package dev.kiln.graph;

import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The gradient of one op type: given the forward node and the gradients flowing into its outputs,
 * builds (with graph ops, so that gradients of gradients work) the gradient of each of its inputs.
 * Registered with {@link OpRegistry#registerGradient}; used by {@link Ops#gradients}.
 */
@FunctionalInterface
public interface GradientFunction {
  /**
   * For op types whose gradient is zero or absent (Sign, StopGradient, comparisons): nothing flows
   * back through their nodes, and an x reached only through them gets a zero gradient. Unlike an op
   * type with no gradient at all, which is an error when met between the xs and the ys.
   */
  GradientFunction NONE = (tf, op, grads) -> Collections.nCopies(op.numInputs(), Optional.empty());

  /**
   * @param tf the scope to build gradient nodes in
   * @param op the forward node
   * @param outputGradients one entry per output of {@code op}: the gradient of the differentiated
   *     value with respect to that output, empty when none flows into it
   * @return one entry per input of {@code op}: its gradient (of the input's shape and dtype), or empty
   *     for none (a zero gradient, or an input that is not differentiable)
   */
  List<Optional<Output>> apply(Ops tf, Operation op, List<Optional<Output>> outputGradients);
}
