package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** The hyperbolic tangent. Elementwise; no variables. */
public record Tanh() implements Layer {
  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "tanh")).tanh(x);
  }
}
