package dev.kiln.data;

import dev.kiln.graph.Tensor;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Shuffled mini-batches over a {@link Dataset}. Each call to {@link #iterator()} is one epoch: a fresh
 * permutation drawn from a generator seeded once, so a run is reproducible while successive epochs
 * see different orders. The last, smaller batch is kept unless {@code dropLast}.
 */
public final class MiniBatches implements Iterable<Batch> {
  private final Dataset data;
  private final int batchSize;
  private final boolean dropLast;
  private final SplittableRandom random;

  public MiniBatches(Dataset data, int batchSize, boolean dropLast, long seed) {
    if (batchSize <= 0) {
      throw new IllegalArgumentException("MiniBatches: batch size must be > 0, got " + batchSize);
    }
    this.data = data;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
    this.random = new SplittableRandom(seed);
  }

  /** Batches in one epoch. */
  public int batchesPerEpoch() {
    return dropLast ? data.size() / batchSize : (data.size() + batchSize - 1) / batchSize;
  }

  public int batchSize() {
    return batchSize;
  }

  /** The next epoch's batches, in a newly shuffled order. */
  @Override
  public Iterator<Batch> iterator() {
    int[] order = permutation(data.size(), random.split());
    int batches = batchesPerEpoch();
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < batches;
      }

      @Override
      public Batch next() {
        if (!hasNext()) {
          throw new NoSuchElementException("epoch has " + batches + " batches");
        }
        int from = next++ * batchSize;
        int n = Math.min(batchSize, order.length - from);
        return gather(order, from, n);
      }
    };
  }

  private Batch gather(int[] order, int from, int n) {
    int f = data.featureSize();
    float[] x = new float[n * f];
    int[] y = new int[n];
    float[] features = data.features();
    int[] labels = data.labels();
    for (int i = 0; i < n; i++) {
      int row = order[from + i];
      System.arraycopy(features, row * f, x, i * f, f);
      y[i] = labels[row];
    }
    return new Batch(Tensor.of(x, n, f), Tensor.of(y, n));
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  static int[] permutation(int n, SplittableRandom random) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
