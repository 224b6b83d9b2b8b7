package dev.kiln.spark;

import java.util.List;

/**
 * One completed training step as the driver saw it: the global batch's loss (the mean over the batch for
 * a mean loss), the step's wall time and, in milliseconds and as the slowest worker's, where it went:
 * gathering the previous step's summed gradient slices (all-gather), applying them, computing gradients,
 * putting the gradient slices, waiting for and fetching the other workers' slices of the owned part
 * (the step's barrier) and summing it and putting the sum (reduce-scatter).
 */
public record StepReport(long step, double loss, int examples, double millis, double gatherMillis,
    double applyMillis, double computeMillis, double putMillis, double barrierMillis, double reduceMillis) {

  /** Time spent exchanging gradients: gather, put, wait and fetch, reduce. */
  public double communicationMillis() {
    return gatherMillis + putMillis + barrierMillis + reduceMillis;
  }

  static StepReport of(long step, int examples, double millis, List<StepResult> results) {
    double loss = 0;
    for (StepResult r : results) { // worker order: the same sum on every run
      loss += r.weightedLoss();
    }
    return new StepReport(step, loss, examples, millis,
        max(results, StepResult::gatherNanos), max(results, StepResult::applyNanos),
        max(results, StepResult::computeNanos), max(results, StepResult::putNanos),
        max(results, StepResult::barrierNanos), max(results, StepResult::reduceNanos));
  }

  private static double max(List<StepResult> results, java.util.function.ToLongFunction<StepResult> f) {
    return results.stream().mapToLong(f).max().orElse(0) / 1e6;
  }
}
