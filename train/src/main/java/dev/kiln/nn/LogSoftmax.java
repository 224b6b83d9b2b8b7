package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** x - log(sum(exp(x))) along an axis (default the last), computed stably. No variables. */
public record LogSoftmax(int axis) implements Layer {
  /** Along the last axis. */
  public LogSoftmax() {
    this(-1);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "log_softmax")).logSoftmax(x, axis);
  }
}
