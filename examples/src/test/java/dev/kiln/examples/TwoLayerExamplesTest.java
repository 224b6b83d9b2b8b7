package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TwoLayerExamplesTest {
  private static final int STEPS = 50;

  @Test
  void builtinAndCustomReluTrainAndAgree() {
    List<String> lines = new ArrayList<>();
    List<Float> builtin = TwoLayerNet.train(STEPS, (tf, h) -> tf.maximum(h, tf.constant(0f)), lines::add);
    List<Float> custom = TwoLayerNet.train(STEPS, TwoLayerCustomRelu::relu, lines::add);
    assertEquals(STEPS, builtin.size());
    // Standard-normal data and weights start near 1e7; 50 steps of lr 1e-6 cut it by at least 10x.
    assertTrue(builtin.get(0) > 1e6, "initial loss " + builtin.get(0));
    assertTrue(builtin.get(STEPS - 1) < builtin.get(0) / 10, builtin.get(0) + " -> " + builtin.get(STEPS - 1));
    for (int t = 1; t < STEPS; t++) {
      assertTrue(builtin.get(t) < builtin.get(t - 1), "loss rose at step " + t + ": " + builtin);
    }
    for (int t = 0; t < STEPS; t++) {
      float b = builtin.get(t);
      float c = custom.get(t);
      assertTrue(Math.abs(b - c) <= 1e-5 * Math.abs(b), "step " + t + ": built-in " + b + ", custom " + c);
    }
    assertTrue(lines.get(0).startsWith("step   0  loss "), lines.get(0));
  }
}
