package dev.kiln.bench;

import java.util.Arrays;

/**
 * Times a training step as the anchors do: {@code warmup} untimed steps, then {@code iters} timed ones,
 * keeping every step's loss (warm-up included) for the RESULT line's loss checks.
 */
record StepTimes(double medianMs, double minMs, double[] losses) {
  @FunctionalInterface
  interface Step {
    /** Runs one step and returns its loss. */
    float run();
  }

  static StepTimes measure(int warmup, int iters, Step step) {
    double[] ms = new double[iters];
    double[] losses = new double[warmup + iters];
    for (int i = -warmup; i < iters; i++) {
      long t0 = System.nanoTime();
      float l = step.run();
      if (i >= 0) {
        ms[i] = (System.nanoTime() - t0) / 1e6;
      }
      losses[i + warmup] = l;
    }
    Arrays.sort(ms);
    double med = iters % 2 == 1 ? ms[iters / 2] : (ms[iters / 2 - 1] + ms[iters / 2]) / 2;
    return new StepTimes(med, ms[0], losses);
  }
}
