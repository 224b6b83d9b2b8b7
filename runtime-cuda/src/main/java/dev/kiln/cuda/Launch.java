package dev.kiln.cuda;

/**
 * How a generated kernel is launched: {@code items} work items, either one thread each in a
 * grid-stride loop ({@code blockPerItem} false) or one block of {@link #BLOCK} threads each
 * (reductions, softmax rows); {@code counter} kernels take a trailing random-counter argument.
 */
record Launch(long items, boolean blockPerItem, boolean counter) {
  static final int BLOCK = 256;
  /** Enough blocks to fill any current GPU; the grid-stride loops cover the rest. */
  static final int MAX_GRID = 65535 * 16;

  int gridSize() {
    long blocks = blockPerItem ? items : (items + BLOCK - 1) / BLOCK;
    return (int) Math.max(1, Math.min(blocks, MAX_GRID));
  }
}
