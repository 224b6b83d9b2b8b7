package dev.kiln.cuda;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Offsets of a plan's device values in one arena, by liveness: walking the run order, a value takes
 * the lowest gap (first fit, 256-byte aligned) among the blocks still live; a block is free from the
 * step after its last reader. A value never shares memory with a value live at the same time, and a
 * node's output never overlaps its own inputs.
 */
final class ArenaLayout {
  static final long ALIGN = 256;

  private ArenaLayout() {}

  /**
   * Fills {@code offsets} for the outputs {@code inArena} accepts and returns the arena's size (its
   * peak). {@code lastUse}: the step of each value's last reader (absent: never read).
   */
  static long layout(List<Operation> order, Map<Output, Integer> lastUse, Predicate<Output> inArena,
      ToLongFunction<Output> bytes, Map<Output, Long> offsets) {
    List<long[]> blocks = new ArrayList<>(); // {offset, size, last step}
    long peak = 0;
    for (int i = 0; i < order.size(); i++) {
      final int step = i;
      blocks.removeIf(b -> b[2] < step);
      for (Output o : order.get(i).outputs()) {
        if (!inArena.test(o)) {
          continue;
        }
        long size = align(bytes.applyAsLong(o));
        long offset = firstFit(blocks, size);
        blocks.add(new long[] {offset, size, lastUse.getOrDefault(o, i)});
        offsets.put(o, offset);
        peak = Math.max(peak, offset + size);
      }
    }
    return peak;
  }

  private static long firstFit(List<long[]> blocks, long size) {
    List<long[]> sorted = new ArrayList<>(blocks);
    sorted.sort((a, b) -> Long.compare(a[0], b[0]));
    long offset = 0;
    for (long[] b : sorted) {
      if (b[0] - offset >= size) {
        return offset;
      }
      offset = Math.max(offset, b[0] + b[1]);
    }
    return offset;
  }

  static long align(long n) {
    return (n + ALIGN - 1) / ALIGN * ALIGN;
  }
}
