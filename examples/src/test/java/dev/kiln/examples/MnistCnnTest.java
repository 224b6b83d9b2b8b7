package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistCnnTest {
  @Test
  void oneEpochOfASmallCnnOnOneThousandDigitsLearns(@TempDir Path dir) throws IOException {
    var config = new MnistCnn.Config(1_000, 500, 8, 32, 1, 32, 2e-3, 0, 1234);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    MnistCnn.Result r = MnistCnn.run(config, dir.resolve("cnn.ckpt"), new PrintStream(log, true, StandardCharsets.UTF_8));
    assertTrue(r.accuracy() > 0.75, "held-out accuracy " + r.accuracy());
    assertEquals(r.accuracy(), r.restoredAccuracy(), 0.0, "the restored model is the same model");
    assertEquals(32, r.steps()); // ceil(1000 / 32)
    // the mean over the first epoch, early steps included, below chance level (ln 10 = 2.30)
    assertTrue(r.finalLoss() < 2.0, "loss " + r.finalLoss());
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("held-out accuracy: "), text);
    assertTrue(text.contains("restored into a fresh Session"), text);
  }

  @Test
  void shiftingMovesTheDigitAndFillsWithZeros() {
    float[] img = new float[784];
    img[5 * 28 + 7] = 1f;
    img[27 * 28 + 27] = 2f;
    // Random(seed) draws dy then dx; find a seed whose first shift is (+1, -2).
    for (long seed = 0; ; seed++) {
      java.util.Random probe = new java.util.Random(seed);
      if (probe.nextInt(5) - 2 == 1 && probe.nextInt(5) - 2 == -2) {
        float[] out = MnistCnn.shifted(dev.kiln.graph.Tensor.of(img, 1, 784), 2, new java.util.Random(seed))
            .toFloatArray();
        assertEquals(1f, out[6 * 28 + 5]);
        assertEquals(1.0, sum(out), 0.0, "the 2 at the corner moved out of the image");
        return;
      }
    }
  }

  private static double sum(float[] v) {
    double s = 0;
    for (float f : v) {
      s += f;
    }
    return s;
  }
}
