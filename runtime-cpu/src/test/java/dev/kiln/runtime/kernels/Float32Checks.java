package dev.kiln.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

/** Random operands and a float32 comparison for the oneDNN kernel tests. */
final class Float32Checks {
  private Float32Checks() {}

  /** {@code n} values uniform in [-1, 1). */
  static float[] random(Random rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return v;
  }

  /**
   * Each element within 1e-4 of the reference, relative to its size when above 1: float32 sums of a few
   * thousand products in whatever order the kernel takes.
   */
  static void assertClose(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - actual[i]) / Math.max(1, Math.abs(expected[i]));
      assertTrue(err <= 1e-4, what + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
    }
  }
}
