package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.BlasChoice;
import dev.kiln.runtime.exec.RuntimeProperties;

import java.util.concurrent.ForkJoinTask;

/**
 * Splits large index ranges over the machine's cores: the calling thread and Kiln's own workers
 * ({@link CoreTeam}) claim the parts; while the team runs another caller's job, the common ForkJoin
 * pool takes them. Small ranges run inline, allocating nothing.
 */
public final class Parallel {
  private Parallel() {}

  public static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

  /**
   * Element counts from which an elementwise loop is worth splitting ({@code -Dkiln.parallel.minElements}):
   * 2^16, past which a loop's memory traffic outweighs handing parts to the pool. With MKL it is 2^20:
   * MKL's OpenMP threads spin for 200 ms (KMP_BLOCKTIME) after each product and hold the other cores,
   * so a split loop of a few hundred thousand elements waits for a core longer than it saves.
   */
  /** How long an idle worker spins for the next job ({@code -Dkiln.parallel.spinMicros}); negative: no team. */
  static final long SPIN_MICROS = RuntimeProperties.SYSTEM.parallelSpinMicros();

  static final int MIN_ELEMENTS = RuntimeProperties.SYSTEM.parallelMinElements().orElse(BlasChoice.MKL ? 1 << 20 : 1 << 16);

  private static final CoreTeam TEAM = THREADS > 1 && SPIN_MICROS >= 0 ? new CoreTeam(THREADS - 1, SPIN_MICROS * 1000) : null;

  @FunctionalInterface
  public interface Range {
    void run(int lo, int hi);
  }

  /** Number of parts a range of {@code n} work units of {@code unitCost} elements each splits into. */
  public static int parts(int n, long unitCost) {
    long total = (long) n * Math.max(1, unitCost);
    if (total < MIN_ELEMENTS || n < 2) {
      return 1;
    }
    return (int) Math.min(Math.min(THREADS, n), total / (MIN_ELEMENTS / 2));
  }

  /**
   * Runs body over [0, n) in {@code parts} contiguous pieces, in parallel when parts > 1. If pieces
   * fail, the failure of the first failing piece is rethrown as it was thrown (ForkJoinTask.join would
   * wrap exceptions from other threads and change their messages).
   */
  public static void split(int n, int parts, Range body) {
    if (parts <= 1) {
      body.run(0, n);
      return;
    }
    Throwable[] failures = new Throwable[parts];
    onEveryPart(parts, failures, p -> runPart(body, n, parts, p, failures));
  }

  /**
   * Runs body over [0, n) in chunks of {@code grain} taken in turn by {@code parts} threads (the
   * caller and parts - 1 pool tasks), so a thread that gets less of a shared core does less of the
   * work instead of the run waiting for it. For bodies whose chunks may run on any thread in any
   * order. The first failure is rethrown as it was thrown, as in {@link #split}.
   */
  public static void dynamic(int n, int grain, int parts, Range body) {
    int chunks = (n + grain - 1) / grain;
    if (parts <= 1 || chunks <= 1) {
      body.run(0, n);
      return;
    }
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    Throwable[] failures = new Throwable[parts];
    onEveryPart(parts, failures, p -> takeChunks(body, n, grain, chunks, next, failures, p));
  }

  /**
   * Runs part 0 on the calling thread and parts 1.. on the pool, waits for all, then rethrows the
   * first failing part's failure ({@code failures}, filled by the parts) as it was thrown.
   */
  private static void onEveryPart(int parts, Throwable[] failures, java.util.function.IntConsumer part) {
    if (TEAM != null && TEAM.tryRun(parts, part)) {
      rethrowFirst(failures);
      return;
    }
    ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[parts - 1];
    for (int p = 1; p < parts; p++) {
      int which = p;
      tasks[p - 1] = ForkJoinTask.adapt(() -> part.accept(which)).fork();
    }
    part.accept(0);
    for (ForkJoinTask<?> t : tasks) {
      t.join();
    }
    rethrowFirst(failures);
  }

  private static void rethrowFirst(Throwable[] failures) {
    for (Throwable f : failures) {
      if (f instanceof RuntimeException r) {
        throw r;
      }
      if (f instanceof Error e) {
        throw e;
      }
    }
  }

  private static void takeChunks(Range body, int n, int grain, int chunks,
      java.util.concurrent.atomic.AtomicInteger next, Throwable[] failures, int part) {
    try {
      for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
        body.run(c * grain, (int) Math.min(n, (long) (c + 1) * grain));
      }
    } catch (RuntimeException | Error e) {
      failures[part] = e;
      next.set(chunks); // the others stop taking chunks
    }
  }

  private static void runPart(Range body, int n, int parts, int p, Throwable[] failures) {
    try {
      body.run(bound(n, parts, p), bound(n, parts, p + 1));
    } catch (RuntimeException | Error e) {
      failures[p] = e;
    }
  }

  /** Start of part {@code p} of {@code parts} over [0, n). */
  static int bound(int n, int parts, int p) {
    return (int) ((long) n * p / parts);
  }
}
