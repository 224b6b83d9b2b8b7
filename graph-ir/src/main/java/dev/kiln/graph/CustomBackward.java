package dev.kiln.graph;

import java.util.List;

/**
 * The hand-written backward pass of {@link Ops#customGradient}: the graph twin of
 * {@code torch.autograd.Function.backward}.
 */
@FunctionalInterface
public interface CustomBackward {
  /**
   * Builds the gradients of the inputs.
   *
   * @param tf the scope to build gradient nodes in
   * @param inputs the inputs given to {@code customGradient}
   * @param outputs the outputs the forward function built
   * @param outputGradients one gradient per output, of the output's shape (zeros where none flows)
   * @return one gradient per input, of the input's shape and dtype
   */
  List<Output> apply(Ops tf, List<Output> inputs, List<Output> outputs, List<Output> outputGradients);
}
