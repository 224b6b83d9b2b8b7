package dev.kiln.spark;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The replicas an executor JVM holds, one per training run, kept between the steps' tasks so that a
 * step costs a gradient computation and an update, not a graph compilation. Tasks of one run in the
 * same JVM (local mode, or executors with several cores) share the replica.
 */
final class Replicas {
  /** Runs kept per JVM; an older run's replica (e.g. one that failed without cleaning up) is closed. */
  private static final int MAX_RUNS = 2;
  private static final Map<String, Replica> BY_RUN = new LinkedHashMap<>(4, 0.75f, true);

  private Replicas() {}

  /**
   * The run's replica brought to {@code step}: restored from the recovery point when this JVM has none
   * (or one from before that point), then advanced by applying each later step's summed gradients,
   * gathered from the workers that own their slices. The caller holds no other replica lock.
   */
  static synchronized Replica at(StepProgram program, String run, long step, Recovery recovery, int workers,
      BlockExchange exchange, long[] gatherNanos) {
    Replica r = BY_RUN.get(run);
    if (r == null || r.step() < recovery.step() || r.step() > step) {
      if (r != null) {
        r.close();
      }
      if (recovery.step() > step) {
        throw new IllegalStateException("recovery point at step " + recovery.step() + " is after step " + step);
      }
      r = Replica.restore(program, recovery.checkpoint().value(), recovery.step());
      BY_RUN.put(run, r);
      evictOld();
    }
    Slices slices = new Slices(program.parameterCount(), workers);
    while (r.step() < step) {
      long next = r.step() + 1;
      long t0 = System.nanoTime();
      float[] summed = new float[program.parameterCount()];
      for (int i = 0; i < workers; i++) {
        float[] part = exchange.get(BlockExchange.sumBlock(run, next, i));
        System.arraycopy(part, 0, summed, slices.from(i), part.length);
      }
      gatherNanos[0] += System.nanoTime() - t0;
      r.apply(summed);
    }
    return r;
  }

  /** Closes and forgets this JVM's replica of {@code run}. */
  static synchronized void release(String run) {
    Replica r = BY_RUN.remove(run);
    if (r != null) {
      r.close();
    }
  }

  private static void evictOld() {
    Iterator<Map.Entry<String, Replica>> it = BY_RUN.entrySet().iterator();
    while (BY_RUN.size() > MAX_RUNS && it.hasNext()) {
      it.next().getValue().close();
      it.remove();
    }
  }
}
