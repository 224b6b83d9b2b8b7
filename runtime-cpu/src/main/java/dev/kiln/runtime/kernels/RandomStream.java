package dev.kiln.runtime.kernels;

/**
 * The random numbers of one RandomNormal/RandomUniform node in one Session: a counter-based
 * splitmix64 stream of its seed. Each run reserves the next block of counters, so values differ
 * between runs and a fresh Session with the same seed repeats them. The generator is the one of the
 * performance anchors (uniform from counter i; normal i from counters 2i, 2i+1 by Box-Muller).
 */
public final class RandomStream {
  private final long seed;
  private long next;

  public RandomStream(long seed) {
    this.seed = seed;
  }

  /** Reserves {@code n} counters and returns the first. */
  synchronized long reserve(long n) {
    long first = next;
    next += n;
    return first;
  }

  long seed() {
    return seed;
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform double in [0,1) for counter {@code i}. */
  public static double uniform(long seed, long i) {
    long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
    return (mix(z) >>> 11) * 0x1.0p-53;
  }

  /** Standard normal value number {@code i} (counters 2i and 2i+1). */
  public static double normal(long seed, long i) {
    double u1 = 1.0 - uniform(seed, 2 * i);
    double u2 = uniform(seed, 2 * i + 1);
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
