package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/**
 * Average pooling over NHWC images: windows of {@code size} x {@code size} moved by {@code stride},
 * padding "VALID" or "SAME" (where a window averages only the elements inside the image). No variables.
 */
public record AvgPool2D(int size, int stride, String padding) implements Layer {
  public AvgPool2D {
    if (size <= 0 || stride <= 0) {
      throw new IllegalArgumentException("AvgPool2D: size and stride must be > 0, got " + size + ", " + stride);
    }
  }

  /** size x size windows, stride size, SAME padding. */
  public AvgPool2D(int size) {
    this(size, size, "SAME");
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "avg_pool2d"))
        .avgPool(x, new int[] {size, size}, new int[] {stride, stride}, padding);
  }
}
