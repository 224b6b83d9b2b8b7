package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** The mean of each channel over height and width: NHWC [N,H,W,C] to [N,C] (a reduction). No variables. */
public record GlobalAveragePooling() implements Layer {
  @Override
  public Output apply(Ops tf, Output x) {
    if (x.shape().rank() != 4) {
      throw new IllegalArgumentException("GlobalAveragePooling: input '" + x.name() + "' must be rank 4 (NHWC), got "
          + x.shape());
    }
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "global_average_pooling")).reduceMean(x, new int[] {1, 2},
        false);
  }
}
