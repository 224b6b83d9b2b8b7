package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/**
 * Max pooling over NHWC images: windows of {@code size} x {@code size} moved by {@code stride}, padding
 * "VALID" or "SAME" (TensorFlow's). {@code new MaxPool2D(2)} halves height and width. No variables.
 */
public record MaxPool2D(int size, int stride, String padding) implements Layer {
  public MaxPool2D {
    if (size <= 0 || stride <= 0) {
      throw new IllegalArgumentException("MaxPool2D: size and stride must be > 0, got " + size + ", " + stride);
    }
  }

  /** size x size windows, stride size, SAME padding. */
  public MaxPool2D(int size) {
    this(size, size, "SAME");
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return tf.withSubScope(LayerScopes.unique(tf.graph(), "max_pool2d"))
        .maxPool(x, new int[] {size, size}, new int[] {stride, stride}, padding);
  }
}
