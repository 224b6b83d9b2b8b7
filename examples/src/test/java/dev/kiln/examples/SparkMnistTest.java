package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.spark.LocalCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * SparkMnist prints the same losses with one worker and with two (in local mode here: two task slots
 * in this JVM; ./example runs it on executor JVMs), one line per step.
 */
class SparkMnistTest {
  @Test
  void oneAndTwoWorkersPrintTheSameLosses() throws Exception {
    SparkSession spark = SparkSession.builder().config(LocalCluster.loopback(new SparkConf()).setMaster("local[2]")
        .setAppName("SparkMnistTest")).getOrCreate();
    try {
      ByteArrayOutputStream text = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(text, true, StandardCharsets.UTF_8);
      SparkMnist.Result one = SparkMnist.run(SparkMnist.Options.parse(new String[] {"--workers", "1", "--steps", "4",
          "--batch-size", "64"}), spark, out);
      SparkMnist.Result two = SparkMnist.run(SparkMnist.Options.parse(new String[] {"--workers", "2", "--steps", "4",
          "--batch-size", "64"}), spark, out);
      assertEquals(4, one.losses().size());
      for (int i = 0; i < 4; i++) {
        double a = one.losses().get(i);
        double b = two.losses().get(i);
        assertTrue(Math.abs(a - b) <= 1e-5 * a, "step " + (i + 1) + ": " + a + " vs " + b);
      }
      assertTrue(one.losses().getLast() < one.losses().getFirst(), one.losses().toString());
      List<String> steps = text.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("step ")).toList();
      assertEquals(8, steps.size());
      assertTrue(steps.getFirst().matches("step 1 loss \\d+\\.\\d{7}"), steps.getFirst());
      assertTrue(one.accuracy() > 0.3, "accuracy " + one.accuracy());
    } finally {
      spark.stop();
    }
  }
}
