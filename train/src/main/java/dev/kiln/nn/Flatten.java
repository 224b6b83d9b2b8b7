package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;

/** Keeps the batch dimension and flattens the rest, in row-major order: [N, d1, d2, ...] to [N, d1*d2*...]. */
public record Flatten() implements Layer {
  @Override
  public Output apply(Ops tf, Output x) {
    Shape s = x.shape();
    long n = 1;
    for (int i = 1; i < Math.max(s.rank(), 0); i++) {
      n = s.dim(i) < 0 ? -1 : n * s.dim(i);
      if (n < 0) {
        break;
      }
    }
    if (s.rank() < 1 || n < 0 || n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("Flatten: input '" + x.name()
          + "' needs a batch dimension and known sizes after it, got " + s);
    }
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "flatten")).reshape(x, -1, (int) n);
  }
}
