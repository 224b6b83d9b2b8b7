package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
  @Test
  void dynamicChunksCoverEveryIndexOnce() {
    for (int n : new int[] {0, 1, 15, 16, 17, 1000, 4099}) {
      for (int grain : new int[] {1, 16, 5000}) {
        for (int parts : new int[] {1, 2, 3}) {
          AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
          Parallel.dynamic(n, grain, parts, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
              hits.incrementAndGet(i);
            }
          });
          for (int i = 0; i < n; i++) {
            assertEquals(1, hits.get(i), "n " + n + " grain " + grain + " parts " + parts + " index " + i);
          }
        }
      }
    }
  }

  @Test
  void dynamicRethrowsAChunksFailureAsThrown() {
    IllegalStateException boom = new IllegalStateException("chunk 7");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.dynamic(100, 10, 2, (lo, hi) -> {
      if (lo == 70) {
        throw boom;
      }
    }));
    assertSame(boom, e);
  }
}
