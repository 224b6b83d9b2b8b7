package dev.kiln.spark;

import java.io.Serializable;

/**
 * One worker's part of a step: its share of the global loss, the checkpoint it took (empty when none
 * was asked for) and where its time went, in nanoseconds: gathering the previous step's summed slices,
 * applying them to its replica (the optimizer's update), computing gradients, putting its gradient
 * slices, waiting at the barrier for the others, and fetching and summing the slice it owns.
 */
record StepResult(long step, int worker, double weightedLoss, byte[] checkpoint, long gatherNanos,
    long applyNanos, long computeNanos, long putNanos, long barrierNanos, long reduceNanos) implements Serializable {}
