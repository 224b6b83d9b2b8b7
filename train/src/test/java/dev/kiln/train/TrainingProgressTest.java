package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingProgressTest {
  @Test
  void propertyOverridesTheTerminalCheck() {
    String old = System.getProperty("kiln.progress");
    try {
      System.setProperty("kiln.progress", "true");
      assertTrue(TrainingProgress.enabledByDefault());
      System.setProperty("kiln.progress", "false");
      assertFalse(TrainingProgress.enabledByDefault());
      System.clearProperty("kiln.progress");
      // surefire's forked JVM has no terminal
      assertFalse(TrainingProgress.enabledByDefault());
    } finally {
      if (old == null) {
        System.clearProperty("kiln.progress");
      } else {
        System.setProperty("kiln.progress", old);
      }
    }
  }

  @Test
  void hiddenProgressIsANoOp() {
    try (TrainingProgress p = TrainingProgress.start("quiet", 3, false)) {
      p.step(1.0);
      p.step(0.5);
    }
  }

  @Test
  void theFinalStateIsPrintedOnceAndTheLineEnded() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TrainingProgress p = TrainingProgress.start("epoch 1/1", 5, new PrintStream(bytes, true,
        StandardCharsets.UTF_8), 100)) {
      for (int i = 0; i < 5; i++) {
        p.step(1.0 / (i + 1));
      }
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(out.endsWith(System.lineSeparator()), out);
    // Each redraw starts with a carriage return; the last one shows all five steps, and only it does.
    List<String> draws = Arrays.stream(out.strip().split("\r")).filter(d -> !d.isEmpty()).toList();
    assertEquals(1, draws.stream().filter(d -> d.contains(" 5/5 ")).count(), out);
    assertTrue(draws.getLast().startsWith("epoch 1/1 100% [==="), out);
    assertTrue(draws.getLast().endsWith("  loss 0.2000"), out);
  }

  @Test
  void theLineShowsTenthsOfASecondAndWhatIsLeft() {
    // 46 of 125 steps: 36%, 11 of 30 bar cells; 0.8 s for 46 steps leaves 0.8 * 79 / 46 = 1.37 s
    assertEquals("epoch 2/10  36% [===========-------------------]  46/125  0.8 s, 1.4 s left  loss 0.4123",
        TrainingProgress.line("epoch 2/10", 46, 125, Duration.ofMillis(800), "loss 0.4123", 100));
    String done = TrainingProgress.line("epoch 2/10", 125, 125, Duration.ofMillis(2140), "loss 0.1", 80);
    assertTrue(done.startsWith("epoch 2/10 100% [=========="), done);
    assertTrue(done.endsWith("] 125/125  2.1 s  loss 0.1"), done);
    assertFalse(done.contains("0:00:00"), done);
  }

  @Test
  void theLineFitsItsWidth() {
    for (int width : new int[] {20, 40, 60, 200}) {
      String l = TrainingProgress.line("a long task name", 3, 1000, Duration.ofSeconds(3), "loss 12.3456", width);
      assertTrue(l.length() <= width, width + ": " + l);
    }
    assertTrue(TrainingProgress.line("t", 3, 10, Duration.ZERO, "", 200).contains("[" + "=".repeat(9) + "-"));
  }

  @Test
  void durationsReadLikeAClock() {
    assertEquals("0.0 s", TrainingProgress.duration(Duration.ZERO));
    assertEquals("0.4 s", TrainingProgress.duration(Duration.ofMillis(430)));
    assertEquals("59.9 s", TrainingProgress.duration(Duration.ofMillis(59_949)));
    assertEquals("1:15", TrainingProgress.duration(Duration.ofSeconds(75)));
    assertEquals("1:02:05", TrainingProgress.duration(Duration.ofSeconds(3725)));
  }
}
