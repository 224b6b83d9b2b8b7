package dev.kiln.graph;

import java.util.List;
import java.util.Optional;

/** Gradients of the control-flow ops ({@link ControlFlowOp}). */
final class ControlFlowGradients {
  private ControlFlowGradients() {}

  static List<Optional<Output>> cond(Ops tf, Operation op, List<Optional<Output>> grads) {
    throw new IllegalArgumentException("gradients: no gradient for " + op + " yet");
  }

  static List<Optional<Output>> whileLoop(Ops tf, Operation op, List<Optional<Output>> grads) {
    throw new IllegalArgumentException("gradients: no gradient for " + op + " yet");
  }
}
