package dev.kiln.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What every campaign main shares: its size (system property {@code kiln.reliability.scale}, 1 for the
 * full campaign, less for {@code --quick}), the repository root ({@code kiln.reliability.root}), and the
 * report: a detailed section on stdout and rows appended to the summary file
 * ({@code kiln.reliability.summary}) that {@link Summary} prints as one table.
 */
public final class Campaign {
  private final String name;
  private final long start = System.nanoTime();
  private final List<Check> checks = new ArrayList<>();

  public Campaign(String name) {
    this.name = name;
    System.out.println("== " + name + " (scale " + scale() + ")");
  }

  public Check check(String checkName) {
    Check c = new Check(checkName);
    checks.add(c);
    return c;
  }

  public static double scale() {
    return ReliabilityOptions.CURRENT.scale();
  }

  /** {@code n} scaled down for a quick run, at least {@code min}. */
  public static int scaled(int n, int min) {
    return Math.max(min, (int) Math.round(n * scale()));
  }

  public static Path root() {
    return ReliabilityOptions.CURRENT.root();
  }

  /** Prints every check in detail and appends them to the summary file. */
  public void finish() {
    double seconds = (System.nanoTime() - start) / 1e9;
    StringBuilder rows = new StringBuilder();
    for (Check c : checks) {
      System.out.printf("%n-- %s: tried %d, handled %d, failed %d%n", c.name(), c.tried(), c.handled(), c.failed());
      for (String n : c.notes()) {
        System.out.println("   note: " + n);
      }
      rows.append(String.join("\t", "CHECK", name, c.name(), Integer.toString(c.tried()),
          Integer.toString(c.handled()), Integer.toString(c.failed()))).append('\n');
      for (Map.Entry<String, Integer> e : c.failureCounts().entrySet()) {
        System.out.println("   FAILED " + e.getValue() + "x  " + e.getKey());
        List<String> ex = c.examples(e.getKey());
        ex.forEach(x -> System.out.println("      e.g. " + x));
        rows.append(String.join("\t", "FAIL", c.name(), e.getKey(), Integer.toString(e.getValue())));
        ex.forEach(x -> rows.append('\t').append(x));
        rows.append('\n');
      }
      List<String> samples = c.handledSamples();
      if (!samples.isEmpty()) {
        System.out.println("   handled, a sample (judge the messages):");
        samples.forEach(x -> System.out.println("      ok: " + x));
      }
    }
    System.out.printf("%n== %s done in %.1f s%n", name, seconds);
    rows.append(String.join("\t", "TIME", name, String.format("%.1f", seconds))).append('\n');
    Optional<Path> file = ReliabilityOptions.CURRENT.summary();
    if (file.isPresent()) {
      try {
        Files.writeString(file.get(), rows, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
