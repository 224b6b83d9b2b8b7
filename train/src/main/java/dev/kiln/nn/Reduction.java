package dev.kiln.nn;

/** How a loss combines per-example values into its result. */
public enum Reduction {
  /** The mean over examples (for MSE: over all elements), as PyTorch's default. */
  MEAN,
  /** The sum. */
  SUM,
  /** No reduction: one value per example (per element for MSE). */
  NONE
}
