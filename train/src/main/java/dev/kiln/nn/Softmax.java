package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** exp(x) / sum(exp(x)) along an axis (default the last). No variables. */
public record Softmax(int axis) implements Layer {
  /** Along the last axis. */
  public Softmax() {
    this(-1);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "softmax")).softmax(x, axis);
  }
}
