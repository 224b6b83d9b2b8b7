package dev.kiln.data;

import dev.kiln.graph.Tensor;
import java.util.Arrays;

/**
 * Labelled examples held in memory: {@code size()} rows of {@code featureSize} float features each
 * (row-major in one array) and one integer class label per row.
 */
public record Dataset(float[] features, int featureSize, int[] labels) {
  public Dataset {
    if (featureSize <= 0) {
      throw new IllegalArgumentException("Dataset: featureSize must be > 0, got " + featureSize);
    }
    if ((long) labels.length * featureSize != features.length) {
      throw new IllegalArgumentException("Dataset: " + labels.length + " labels need " + (long) labels.length
          * featureSize + " features of size " + featureSize + ", got " + features.length);
    }
  }

  public int size() {
    return labels.length;
  }

  /** Rows {@code from} (inclusive) to {@code to} (exclusive), copied. */
  public Dataset slice(int from, int to) {
    if (from < 0 || to > size() || from > to) {
      throw new IndexOutOfBoundsException("Dataset.slice(" + from + ", " + to + ") of a dataset of " + size());
    }
    return new Dataset(Arrays.copyOfRange(features, from * featureSize, to * featureSize), featureSize,
        Arrays.copyOfRange(labels, from, to));
  }

  /** The features as a FLOAT32 tensor of shape [size, featureSize]. */
  public Tensor featureTensor() {
    return Tensor.of(features, size(), featureSize);
  }

  /** The labels as an INT32 tensor of shape [size]. */
  public Tensor labelTensor() {
    return Tensor.of(labels, size());
  }

  /** Shuffled mini-batches of this dataset, a new order each epoch, reproducible from {@code seed}. */
  public MiniBatches batches(int batchSize, long seed) {
    return new MiniBatches(this, batchSize, false, seed);
  }

  @Override
  public String toString() {
    return "Dataset(" + size() + " x " + featureSize + ")";
  }
}
