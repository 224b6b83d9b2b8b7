package dev.kiln.data;

import dev.kiln.graph.Tensor;

/** One mini-batch: FLOAT32 features of shape [size, featureSize] and INT32 labels of shape [size]. */
public record Batch(Tensor features, Tensor labels) {
  public int size() {
    return labels.shape().dim(0);
  }
}
