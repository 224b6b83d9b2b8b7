package dev.kiln.bench;

/**
 * The performance anchors' data generator (../shared/anchors/README.md, "Data"), so that the
 * benchmarks see the same inputs and initial weights as the reference implementations:
 * counter-based splitmix64 -> uniform double in [0,1) -> Box-Muller (cos branch; normal i uses
 * counters 2i and 2i+1) -> float32.
 */
public final class AnchorData {
  private AnchorData() {}

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform double in [0,1) for counter {@code i} of stream {@code seed}. */
  public static double uniform(long seed, long i) {
    long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
    return (mix(z) >>> 11) * 0x1.0p-53;
  }

  /** {@code n} standard normal floats times {@code scale}. */
  public static float[] normal(long seed, int n, double scale) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      double u1 = 1.0 - uniform(seed, 2L * i);
      double u2 = uniform(seed, 2L * i + 1);
      out[i] = (float) (Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2) * scale);
    }
    return out;
  }

  /** {@code n} integer labels in [0,k). */
  public static int[] labels(long seed, int n, int k) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = (int) Math.floor(uniform(seed, i) * k);
    }
    return out;
  }
}
