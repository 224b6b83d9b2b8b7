package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.SessionOptions.FusedKernelOptions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The per-Session settings of fused kernels: validated, and each setting gives the same values. */
class FusedKernelOptionsTest {
  @Test
  void badSettingsAreRefusedNamingTheField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new FusedKernelOptions(true, 256, 8, 4096));
    assertEquals("FusedKernelOptions.blockElements must be at least 16, got 8", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new FusedKernelOptions(true, -1, 1024, 4096));
    assertEquals("FusedKernelOptions.generateMinElements must be at least 0, got -1", e.getMessage());
    assertThrows(NullPointerException.class, () -> SessionOptions.builder().fusedKernels(null));
  }

  @Test
  void everySettingComputesTheSameChain() {
    int n = 10_000;
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(n));
    Output y = tf.tanh(tf.add(tf.mul(tf.sigmoid(x), tf.constant(3f)), tf.exp(tf.neg(tf.square(x)))));
    float[] xs = new float[n];
    Random r = new Random(5);
    for (int i = 0; i < n; i++) {
      xs[i] = (float) r.nextGaussian();
    }
    float[] expected = new float[n];
    for (int i = 0; i < n; i++) {
      double v = xs[i];
      expected[i] = (float) Math.tanh(3 / (1 + Math.exp(-v)) + Math.exp(-v * v));
    }
    Tensor feed = Tensor.of(xs, n);
    float[] first = null;
    for (FusedKernelOptions o : new FusedKernelOptions[] {FusedKernelOptions.defaults(),
        FusedKernelOptions.defaults().withGenerateLoops(false), new FusedKernelOptions(true, 0, 16, 16),
        new FusedKernelOptions(false, 0, 100, 100), new FusedKernelOptions(true, n + 1, 333, 4096)}) {
      SessionOptions options = SessionOptions.builder().fusedKernels(o).build();
      assertTrue(options.toString().contains("fusedKernels=") == !o.equals(FusedKernelOptions.defaults()), options.toString());
      try (Session s = new Session(g, options)) {
        float[] got = s.run(Map.of(x, feed), y).get(0).toFloatArray();
        for (int i = 0; i < n; i++) {
          assertEquals(expected[i], got[i], 2e-6f, o + " element " + i);
        }
        if (first == null) {
          first = got;
        } else {
          assertArrayEquals(first, got, o.toString());
        }
      }
    }
  }
}
