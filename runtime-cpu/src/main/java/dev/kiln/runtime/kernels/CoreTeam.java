package dev.kiln.runtime.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * One worker thread per extra core, owned by Kiln, that runs the parts of one split loop or product at
 * a time. A worker that finishes waits for the next job spinning for {@code spinNanos} before it parks:
 * the products and loops of one step follow each other within microseconds, and waking a parked thread
 * costs more than a small product takes, so without the spin the caller would run every part itself
 * before the worker woke. The spin is bounded so that an idle team leaves the cores to the JIT's compiler
 * threads and other processes. Parts are claimed, not assigned: a worker that is late (descheduled,
 * parked) leaves its parts to the caller instead of making it wait.
 */
final class CoreTeam {
  private final Worker[] workers;
  private final long spinNanos;
  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile Job job;
  private long generation;

  CoreTeam(int extraThreads, long spinNanos) {
    this.spinNanos = spinNanos;
    this.workers = new Worker[extraThreads];
    for (int i = 0; i < extraThreads; i++) {
      workers[i] = new Worker(i);
      workers[i].start();
    }
  }

  /**
   * Runs {@code part} for 0..parts-1 on the caller and the workers, returning when every part is done.
   * Returns false without running anything when the team is already running another caller's job (a
   * nested split, or another thread's), so that the caller runs its parts itself.
   */
  boolean tryRun(int parts, IntConsumer part) {
    if (!busy.compareAndSet(false, true)) {
      return false;
    }
    try {
      Job j = new Job(++generation, parts, part);
      job = j;
      for (Worker w : workers) {
        if (w.parked) {
          LockSupport.unpark(w);
        }
      }
      j.work();
      j.awaitDone();
      job = null;
      if (j.escaped != null) {
        throw new IllegalStateException("a part of a split loop failed on " + j.escapedOn, j.escaped);
      }
      return true;
    } finally {
      busy.set(false);
    }
  }

  private static final class Job {
    final long generation;
    final int parts;
    final IntConsumer part;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    /** What a part threw on a worker (parts record their own failures; this is for those that don't). */
    volatile Throwable escaped;
    volatile String escapedOn;

    Job(long generation, int parts, IntConsumer part) {
      this.generation = generation;
      this.parts = parts;
      this.part = part;
    }

    /** Claims and runs parts until none is left. The part itself records its failure. */
    void work() {
      for (int p = next.getAndIncrement(); p < parts; p = next.getAndIncrement()) {
        try {
          part.accept(p);
        } finally {
          done.incrementAndGet();
        }
      }
    }

    /** Waits for parts claimed by workers; they are running, so the wait is at most one part long. */
    void awaitDone() {
      int spins = 0;
      while (done.get() < parts) {
        if (++spins < 1 << 14) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
    }
  }

  private final class Worker extends Thread {
    volatile boolean parked;

    Worker(int index) {
      super("kiln-core-" + (index + 1));
      setDaemon(true);
    }

    @Override
    public void run() {
      // The generation, not the job, is remembered: a finished job's closure holds kernel buffers.
      long seen = 0;
      while (true) {
        Job j = awaitJob(seen);
        seen = j.generation;
        try {
          j.work();
        } catch (Throwable t) { // kept for the caller to rethrow; the worker lives on for the next job
          j.escapedOn = getName();
          j.escaped = t;
        }
      }
    }

    private Job awaitJob(long seen) {
      long spinUntil = System.nanoTime() + spinNanos;
      while (true) {
        Job j = job;
        if (j != null && j.generation != seen) {
          return j;
        }
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
          continue;
        }
        parked = true;
        j = job;
        if (j == null || j.generation == seen) {
          LockSupport.park(this);
        }
        parked = false;
        spinUntil = System.nanoTime() + spinNanos;
      }
    }
  }
}
