package dev.kiln.spark;

import java.io.Serializable;

/**
 * A fault injected on purpose (tests): worker {@code worker}'s task of step {@code step} throws in its
 * first attempt, after putting its gradient slices and before the barrier, i.e. mid-exchange.
 */
record FailOnce(long step, int worker) implements Serializable {
  static final FailOnce NONE = new FailOnce(-1, -1);
}
