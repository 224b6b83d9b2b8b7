package dev.kiln.spark;

import java.io.Serializable;

/**
 * A worker's share of the training data: for each batch of an epoch, in order, the {@code rowsPerStep}
 * examples at the worker's positions in that global batch.
 */
record Shard(int worker, int rowsPerStep, int batchesPerEpoch, ExampleBlock data) implements Serializable {
  /** The first row of step {@code step} (counted from 1). */
  int firstRow(long step) {
    return (int) ((step - 1) % batchesPerEpoch) * rowsPerStep;
  }
}
