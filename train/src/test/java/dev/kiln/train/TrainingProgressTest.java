package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
