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

class MnistClassifierTest {
  @Test
  void oneEpochOnTwoThousandDigitsLearns(@TempDir Path dir) throws IOException {
    var config = new MnistClassifier.Config(2_000, 1_000, 256, 1, 32, 1e-3, 1234);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    MnistClassifier.Result r =
        MnistClassifier.run(config, dir.resolve("m.ckpt"), new PrintStream(log, true, StandardCharsets.UTF_8));
    assertTrue(r.accuracy() > 0.85, "held-out accuracy " + r.accuracy());
    assertEquals(r.accuracy(), r.restoredAccuracy(), 0.0, "the restored model is the same model");
    assertEquals(63, r.steps()); // ceil(2000 / 32)
    // a mean cross-entropy below chance level, ln 10 = 2.30
    assertTrue(r.finalLoss() < 1.0, "loss " + r.finalLoss());
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("epoch 1/1: loss "), text);
    assertTrue(text.contains("restored into a fresh Session"), text);
  }
}
