package dev.kiln.runtime;

import dev.kiln.graph.DType;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The buffers of a plan's frame while the memory plan is made: values take a free buffer of their
 * dtype and give it back when they die; a buffer's size is the largest value it ever holds.
 */
final class BufferPool {
  private final List<DType> types = new ArrayList<>();
  private final List<Integer> sizes = new ArrayList<>();
  private final Map<DType, List<Integer>> free = new EnumMap<>(DType.class);

  /** A free buffer of the dtype: the smallest big enough, else the largest (grown), else a new one. */
  int allocate(TensorType t) {
    int n = (int) t.shape().numElements();
    List<Integer> candidates = free.computeIfAbsent(t.dtype(), d -> new ArrayList<>());
    int best = -1;
    int largest = -1;
    for (int i = 0; i < candidates.size(); i++) {
      int cap = sizes.get(candidates.get(i));
      if (cap >= n && (best < 0 || cap < sizes.get(candidates.get(best)))) {
        best = i;
      }
      if (largest < 0 || cap > sizes.get(candidates.get(largest))) {
        largest = i;
      }
    }
    int pick = best >= 0 ? best : largest;
    if (pick >= 0) {
      int b = candidates.remove(pick);
      sizes.set(b, Math.max(n, sizes.get(b)));
      return b;
    }
    types.add(t.dtype());
    sizes.add(n);
    return types.size() - 1;
  }

  void release(int buffer) {
    free.computeIfAbsent(types.get(buffer), d -> new ArrayList<>()).add(buffer);
  }

  int count() {
    return types.size();
  }

  DType[] types() {
    return types.toArray(DType[]::new);
  }

  int[] sizes() {
    return sizes.stream().mapToInt(Integer::intValue).toArray();
  }
}
