package dev.kiln.runtime;

import dev.kiln.runtime.kernels.VectorSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} (as a user who passes no flags
 * starts one) runs {@link NoVectorProgram}'s graphs, fused and unfused, without touching a Vector
 * API class, and fetches what this JVM (which has the module) fetches: the same bits for the
 * elementwise ops, matmul epilogues and softmax; the same values within 1e-6 for sums and the
 * random programs.
 */
class NoVectorModuleTest {
  private static final double TOLERANCE = 1e-6;

  @Test
  void aJvmWithoutTheVectorModuleComputesWhatThisOneDoes() throws Exception {
    assumeTrue(VectorSupport.AVAILABLE, "compares with this JVM's Vector API paths");
    List<String> child = runWithoutTheModule();
    assertEquals("vector=false", child.get(0), "the child JVM must not have the module");
    List<String> mine = NoVectorProgram.outputs();
    assertEquals(mine.size(), child.size() - 1, "lines");
    int exact = 0;
    for (int i = 0; i < mine.size(); i++) {
      String[] want = mine.get(i).split("\t");
      String[] got = child.get(i + 1).split("\t");
      assertEquals(want[0], got[0], "line " + i);
      if (want[1].equals("error")) {
        assertEquals(mine.get(i), child.get(i + 1), want[0]);
        continue;
      }
      if (want[1].equals("exact")) {
        exact++;
        if (!want[2].equals(got[2])) {
          fail(want[0] + ": first difference at element " + firstDifference(want[2], got[2]) + " (with the module, without)");
        }
      } else {
        assertClose(want[0], want[2], got[2]);
      }
    }
    assertTrue(exact >= 20, "exact lines: " + exact);
  }

  private static String firstDifference(String a, String b) {
    String[] x = a.split(" ");
    String[] y = b.split(" ");
    for (int i = 1; i < Math.min(x.length, y.length); i++) {
      if (!x[i].equals(y[i])) {
        return (i - 1) + ": " + value(x[i]) + " vs " + value(y[i]);
      }
    }
    return "lengths " + x.length + " vs " + y.length;
  }

  private static double value(String hex) {
    return Double.longBitsToDouble(Long.parseUnsignedLong(hex, 16));
  }

  private static void assertClose(String label, String a, String b) {
    String[] x = a.split(" ");
    String[] y = b.split(" ");
    assertEquals(x[0], y[0], label + ": type");
    assertEquals(x.length, y.length, label + ": size");
    for (int i = 1; i < x.length; i++) {
      double u = value(x[i]);
      double v = value(y[i]);
      boolean same = u == v || (Double.isNaN(u) && Double.isNaN(v))
          || Math.abs(u - v) <= TOLERANCE * Math.max(Math.abs(u), Math.abs(v)) + TOLERANCE;
      if (!same) {
        fail(label + " element " + (i - 1) + ": with the module " + u + ", without " + v);
      }
    }
  }

  /** NoVectorProgram's output in a JVM with this one's class path and test flags, less the module. */
  private static List<String> runWithoutTheModule() throws IOException, InterruptedException {
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path out = Files.createTempFile("kiln-novector", ".txt");
    Path err = Files.createTempFile("kiln-novector", ".err");
    try {
      List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xss4m", "-Xmx512m", "-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED", "-cp", classPath,
          NoVectorProgram.class.getName()));
      Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        fail("the child JVM did not finish in 10 minutes");
      }
      String stderr = Files.readString(err, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), "child JVM failed:\n" + stderr);
      assertTrue(!stderr.contains("NoClassDefFoundError") && !stderr.contains("jdk/incubator/vector"), stderr);
      return Files.readAllLines(out, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
