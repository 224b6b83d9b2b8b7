package dev.kiln.runtime.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The allocator of a device with raw memory: a plan's values at byte offsets in one arena. A value
 * takes the lowest gap (first fit, aligned) among the blocks still live; {@link MemoryPlanner#assign}
 * decides when a block is dead. The arena's size is the highest end of any block: the device
 * allocates that once per plan.
 */
public final class ArenaLayout implements MemoryPlanner.Allocator {
  /**
   * @param offsets each value's byte offset in the arena
   * @param bytes the arena's size
   */
  public record Arena(long[] offsets, long bytes) {}

  private final long alignment;
  private final ToLongFunction<MemoryPlanner.Value> bytes;
  private final List<long[]> live = new ArrayList<>(); // {block, offset, size}
  private final List<Long> offsetOfBlock = new ArrayList<>();
  private long peak;

  private ArenaLayout(long alignment, ToLongFunction<MemoryPlanner.Value> bytes) {
    this.alignment = alignment;
    this.bytes = bytes;
  }

  /**
   * Lays out {@code values} over {@code steps} (see {@link MemoryPlanner.Step}): each value's offset
   * and the arena's size. {@code bytes} is a value's size on the device; every block starts and ends
   * at a multiple of {@code alignment}.
   */
  public static Arena layout(List<MemoryPlanner.Value> values, List<MemoryPlanner.Step> steps, long alignment,
      ToLongFunction<MemoryPlanner.Value> bytes) {
    if (alignment < 1) {
      throw new IllegalArgumentException("alignment must be positive, got " + alignment);
    }
    ArenaLayout arena = new ArenaLayout(alignment, bytes);
    int[] blockOf = MemoryPlanner.assign(values, steps, arena).blockOf();
    long[] offsets = new long[blockOf.length];
    for (int v = 0; v < offsets.length; v++) {
      offsets[v] = arena.offsetOfBlock.get(blockOf[v]);
    }
    return new Arena(offsets, arena.peak);
  }

  /** {@code n} rounded up to a multiple of {@code alignment}. */
  public static long align(long n, long alignment) {
    return (n + alignment - 1) / alignment * alignment;
  }

  @Override
  public int allocate(MemoryPlanner.Value v) {
    long size = align(bytes.applyAsLong(v), alignment);
    long offset = firstFit(size);
    int block = offsetOfBlock.size();
    offsetOfBlock.add(offset);
    live.add(new long[] {block, offset, size});
    peak = Math.max(peak, offset + size);
    return block;
  }

  @Override
  public void release(int block, MemoryPlanner.Value v) {
    live.removeIf(b -> b[0] == block);
  }

  private long firstFit(long size) {
    List<long[]> sorted = new ArrayList<>(live);
    sorted.sort((a, b) -> Long.compare(a[1], b[1]));
    long offset = 0;
    for (long[] b : sorted) {
      if (b[1] - offset >= size) {
        return offset;
      }
      offset = Math.max(offset, b[1] + b[2]);
    }
    return offset;
  }
}
