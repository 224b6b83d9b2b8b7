package dev.kiln.runtime.kernels;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * A kernel's reusable scratch objects: a thread takes one for a run (or one part of a run) and gives
 * it back, so the scratch lives and dies with its kernel and plan. A ThreadLocal would instead keep
 * it, and through it the kernel, for the life of every thread that ever ran the kernel. Lock-free;
 * allocation-free once as many objects exist as threads run the kernel at once (up to the pool's
 * capacity; beyond it, extra objects are made and dropped).
 */
public final class ScratchPool<T> {
  /** Idle objects kept: every core running a part of a run, for two concurrent runs. */
  static final int CAPACITY = Math.max(4, 2 * Parallel.THREADS);

  private final AtomicReferenceArray<T> idle = new AtomicReferenceArray<>(CAPACITY);
  private final Supplier<T> make;

  public ScratchPool(Supplier<T> make) {
    this.make = make;
  }

  /** An idle object, or a new one; the caller owns it until {@link #give}. */
  public T take() {
    for (int i = 0; i < CAPACITY; i++) {
      T t = idle.get(i);
      if (t != null && idle.compareAndSet(i, t, null)) {
        return t;
      }
    }
    return make.get();
  }

  /** Returns {@code t} (taken from this pool, no longer used by the caller) for reuse. */
  public void give(T t) {
    for (int i = 0; i < CAPACITY; i++) {
      if (idle.get(i) == null && idle.compareAndSet(i, null, t)) {
        return;
      }
    }
  }
}
