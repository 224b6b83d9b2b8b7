package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
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
    assertEquals(1, r.epochSeconds().size());
    assertTrue(text.contains(String.format(java.util.Locale.ROOT,
        "training time: %.2f s (first epoch %.2f s, later epochs median %.2f s)", r.trainingSeconds(),
        r.epochSeconds().getFirst(), r.epochSeconds().getFirst())), text);
  }

  @Test
  void trainingTimeIsTheEpochsSumAndLaterEpochsTheirMedian() {
    var r = new MnistClassifier.Result(List.of(1.0, 0.5, 0.4, 0.3), 0.9, 0.9, 4, 1.0, List.of(4.0, 1.0, 3.0, 2.0), 11);
    assertEquals(10.0, r.trainingSeconds(), 1e-12);
    assertEquals(2.0, r.laterEpochsMedianSeconds(), 1e-12); // of 1, 3, 2
    var even = new MnistClassifier.Result(List.of(1.0, 0.5, 0.4), 0.9, 0.9, 3, 1.0, List.of(4.0, 1.0, 2.0), 8);
    assertEquals(1.5, even.laterEpochsMedianSeconds(), 1e-12);
  }

  @Test
  void zeroEpochsAreRefused() {
    var e = assertThrows(IllegalArgumentException.class, () -> new MnistClassifier.Config(100, 10, 8, 0, 10, 1e-3, 1));
    assertEquals("MnistClassifier: epochs must be at least 1, got 0", e.getMessage());
  }

  @Test
  void aRunWithoutANamedCheckpointLeavesNothingInTheTemporaryFolder(@TempDir Path tmp) throws IOException {
    var tiny = new MnistClassifier.Config(200, 100, 16, 1, 50, 1e-3, 1234);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    MnistClassifier.Result r = MnistClassifier.runWithTemporaryCheckpoint(tiny, tmp,
        new PrintStream(log, true, StandardCharsets.UTF_8));
    assertEquals(r.accuracy(), r.restoredAccuracy(), 0.0, "the checkpoint was written and read back");
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("restored into a fresh Session"), text);
    assertEquals(List.of(), list(tmp));
  }

  @Test
  void aFailedRunDeletesItsTemporaryFolderToo(@TempDir Path tmp) throws IOException {
    var tooMany = new MnistClassifier.Config(1_000_000, 100, 16, 1, 50, 1e-3, 1234);
    var e = assertThrows(IllegalArgumentException.class, () -> MnistClassifier.runWithTemporaryCheckpoint(tooMany,
        tmp, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    assertTrue(e.getMessage().startsWith("MnistClassifier: 1000000 + 100 digits requested"), e.getMessage());
    assertEquals(List.of(), list(tmp));
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }
}
