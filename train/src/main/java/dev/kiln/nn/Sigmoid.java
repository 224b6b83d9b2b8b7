package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** The logistic function 1 / (1 + exp(-x)). Elementwise; no variables. */
public record Sigmoid() implements Layer {
  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "sigmoid")).sigmoid(x);
  }
}
