package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

  /** Sums of i over [0, n) computed by split parts, checked against n(n-1)/2. */
  private static long splitSum(int n, int parts) {
    java.util.concurrent.atomic.AtomicLong total = new java.util.concurrent.atomic.AtomicLong();
    Parallel.split(n, parts, (lo, hi) -> {
      long s = 0;
      for (int i = lo; i < hi; i++) {
        s += i;
      }
      total.addAndGet(s);
    });
    return total.get();
  }

  @Test
  void manyJobsInARowRunEveryPartOnce() {
    for (int job = 0; job < 20_000; job++) {
      int n = 1 + job % 977;
      int parts = 2 + job % 3;
      assertEquals((long) n * (n - 1) / 2, splitSum(n, parts), "job " + job);
    }
  }

  @Test
  void concurrentAndNestedSplitsAllComplete() throws Exception {
    ExecutorService callers = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        runs.add(callers.submit(() -> {
          for (int job = 0; job < 2_000; job++) {
            AtomicIntegerArray hits = new AtomicIntegerArray(64);
            // Each outer part splits again: the inner split finds the team busy and takes another path.
            Parallel.split(4, 2, (lo, hi) -> {
              for (int o = lo; o < hi; o++) {
                int base = o * 16;
                Parallel.split(16, 2, (ilo, ihi) -> {
                  for (int i = ilo; i < ihi; i++) {
                    hits.incrementAndGet(base + i);
                  }
                });
              }
            });
            for (int i = 0; i < 64; i++) {
              assertEquals(1, hits.get(i), "index " + i);
            }
          }
        }));
      }
      for (Future<?> f : runs) {
        f.get();
      }
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void splitRethrowsAPartsFailureAsThrown() {
    IllegalArgumentException boom = new IllegalArgumentException("part 1");
    for (int i = 0; i < 100; i++) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.split(10, 2, (lo, hi) -> {
        if (lo == 5) {
          throw boom;
        }
      }));
      assertSame(boom, e);
    }
    assertEquals(45L, splitSum(10, 2), "the workers still run jobs after a failure");
  }

  /** An idle worker stops spinning and parks, leaving the core to other threads. */
  @Test
  void idleWorkersPark() throws InterruptedException {
    assumeTrue(Parallel.THREADS > 1, "one core: Kiln starts no workers");
    splitSum(1000, 2);
    Thread.sleep(200);
    List<Thread.State> states = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("kiln-core-")) {
        states.add(t.getState());
      }
    }
    assertEquals(Parallel.THREADS - 1, states.size(), "workers: " + states);
    for (Thread.State s : states) {
      assertTrue(s == Thread.State.WAITING, "an idle worker is " + s + ", expected WAITING (parked)");
    }
  }
}
