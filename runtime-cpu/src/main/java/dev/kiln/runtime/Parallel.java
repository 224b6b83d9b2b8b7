package dev.kiln.runtime;

import java.util.concurrent.ForkJoinTask;

/**
 * Splits large index ranges over the machine's cores (the calling thread takes the first part, the
 * common ForkJoin pool the others). Small ranges run inline, allocating nothing.
 */
final class Parallel {
  private Parallel() {}

  static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

  /** Element counts from which an elementwise loop is worth splitting. */
  static final int MIN_ELEMENTS = 1 << 16;

  @FunctionalInterface
  interface Range {
    void run(int lo, int hi);
  }

  /** Number of parts a range of {@code n} work units of {@code unitCost} elements each splits into. */
  static int parts(int n, long unitCost) {
    long total = (long) n * Math.max(1, unitCost);
    if (total < MIN_ELEMENTS || n < 2) {
      return 1;
    }
    return (int) Math.min(Math.min(THREADS, n), total / (MIN_ELEMENTS / 2));
  }

  /** Runs body over [0, n) in {@code parts} contiguous pieces, in parallel when parts > 1. */
  static void split(int n, int parts, Range body) {
    if (parts <= 1) {
      body.run(0, n);
      return;
    }
    ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[parts - 1];
    for (int p = 1; p < parts; p++) {
      int lo = bound(n, parts, p);
      int hi = bound(n, parts, p + 1);
      tasks[p - 1] = ForkJoinTask.adapt(() -> body.run(lo, hi)).fork();
    }
    Throwable failure = null;
    try {
      body.run(0, bound(n, parts, 1));
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    for (ForkJoinTask<?> t : tasks) {
      try {
        t.join();
      } catch (RuntimeException | Error e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error e) {
      throw e;
    }
  }

  /** Start of part {@code p} of {@code parts} over [0, n). */
  static int bound(int n, int parts, int p) {
    return (int) ((long) n * p / parts);
  }
}
