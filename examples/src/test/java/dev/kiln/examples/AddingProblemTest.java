package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AddingProblemTest {
  @Test
  void eachSequenceHasTwoMarksOneInEachHalfOfItsOwnLengthAndZerosAfterIt() {
    AddingProblem.Batch b = AddingProblem.Batch.generate(200, 10, 50, new Random(1));
    float[] x = b.sequences().toFloatArray();
    int[] len = b.lengths().toIntArray();
    float[] y = b.targets().toFloatArray();
    int steps = b.sequences().shape().dim(1);
    boolean[] seen = new boolean[51];
    for (int i = 0; i < 200; i++) {
      assertTrue(len[i] >= 10 && len[i] <= 50, "length " + len[i]);
      seen[len[i]] = true;
      double sum = 0;
      int first = -1;
      int second = -1;
      for (int t = 0; t < steps; t++) {
        float v = x[(i * steps + t) * 2];
        float mark = x[(i * steps + t) * 2 + 1];
        if (t >= len[i]) {
          assertEquals(0f, v, "value past the length");
          assertEquals(0f, mark, "mark past the length");
          continue;
        }
        assertTrue(v >= 0 && v < 1, "value " + v);
        if (mark == 1f) {
          sum += v;
          if (first < 0) {
            first = t;
          } else {
            second = t;
          }
        } else {
          assertEquals(0f, mark);
        }
      }
      assertTrue(first >= 0 && first < len[i] / 2, "first mark at " + first + " of " + len[i]);
      assertTrue(second >= len[i] / 2 && second < len[i], "second mark at " + second + " of " + len[i]);
      assertEquals(sum, y[i], 1e-6);
    }
    assertTrue(seen[10] && seen[50], "both extreme lengths drawn in 200 examples");
    assertEquals(50, steps, "padded to the longest");
    AddingProblem.Batch shortOnes = AddingProblem.Batch.generate(3, 4, 6, new Random(2));
    int longest = java.util.Arrays.stream(shortOnes.lengths().toIntArray()).max().orElseThrow();
    assertEquals(dev.kiln.graph.Shape.of(3, longest, 2), shortOnes.sequences().shape());
  }

  @Test
  void anLstmOnShortSequencesBeatsTheBaseline() {
    var config = new AddingProblem.Config(4, 8, 16, 32, 600, 100, 500, 1e-2, 0.01, 7);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AddingProblem.Result r = AddingProblem.run(config, new PrintStream(log, true, StandardCharsets.UTF_8));
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(r.baselineMse() > 0.12 && r.baselineMse() < 0.21, "baseline " + r.baselineMse());
    assertTrue(r.heldOutMse() < r.baselineMse() / 4, "held-out MSE " + r.heldOutMse() + "\n" + text);
    assertTrue(text.contains(String.format(java.util.Locale.ROOT, "held-out MSE: %.5f (baseline, always predicting 1.0:",
        r.heldOutMse())), text);
  }
}
