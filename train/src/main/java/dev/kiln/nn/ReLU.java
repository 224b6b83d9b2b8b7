package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** Rectified linear unit, max(x, 0). Elementwise; no variables. */
public record ReLU() implements Layer {
  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "relu")).relu(x);
  }
}
