package dev.kiln.runtime;

import dev.kiln.runtime.exec.RuntimeProperties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code kiln.*} system property is read in one options class per module, and listed in
 * docs/configuration.md: scans the main sources of every module of the repository.
 */
class ConfigurationSourcesTest {
  /** A read (or write) of a system property whose name is a kiln.* literal. */
  private static final Pattern ACCESS = Pattern.compile(
      "(System\\s*\\.\\s*(getProperty|setProperty|clearProperty)|Boolean\\s*\\.\\s*getBoolean|Integer\\s*\\.\\s*getInteger"
          + "|Long\\s*\\.\\s*getLong)\\s*\\(\\s*\"kiln\\.");
  private static final Pattern NAME = Pattern.compile("\"(kiln\\.[A-Za-z0-9_.]+)\"");

  /** The options classes (one per library module), and the benchmark harness's own parameters. */
  private static final Set<String> READERS = Set.of(
      "runtime-cpu/src/main/java/dev/kiln/runtime/exec/RuntimeProperties.java",
      "runtime-cuda/src/main/java/dev/kiln/cuda/CudaProperties.java",
      "train/src/main/java/dev/kiln/train/TrainProperties.java",
      "bench/src/main/java/dev/kiln/bench/RunAll.java",
      "bench/src/main/java/dev/kiln/reliability/ReliabilityOptions.java");

  private static Path root() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("runtime-cpu")) && Files.isDirectory(p.resolve("graph-ir"))) {
        return p;
      }
    }
    throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
  }

  /** Main source files (relative, with /) to the kiln.* property names each one reads. */
  private static Map<String, Set<String>> readers(Path root) throws IOException {
    Map<String, Set<String>> found = new TreeMap<>();
    List<Path> mains;
    try (Stream<Path> modules = Files.list(root)) {
      mains = modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList();
    }
    for (Path main : mains) {
      try (Stream<Path> files = Files.walk(main)) {
        for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          String text = read(f);
          if (ACCESS.matcher(text).find()) {
            Set<String> names = new TreeSet<>();
            Matcher m = NAME.matcher(text);
            while (m.find()) {
              names.add(m.group(1));
            }
            found.put(root.relativize(f).toString().replace('\\', '/'), names);
          }
        }
      }
    }
    return found;
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void onlyTheOptionsClassesReadKilnProperties() throws IOException {
    Map<String, Set<String>> found = readers(root());
    Set<String> outside = new TreeSet<>(found.keySet());
    outside.removeAll(READERS);
    assertEquals(Set.of(), outside, "kiln.* system properties read outside the options classes " + READERS);
  }

  @Test
  void everyPropertyIsInTheConfigurationTable() {
    Path root = root();
    String doc = read(root.resolve("docs/configuration.md"));
    Set<String> names = new TreeSet<>();
    for (String reader : READERS) {
      Matcher m = NAME.matcher(read(root.resolve(reader)));
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    assertTrue(names.containsAll(Set.of("kiln.blas", "kiln.fused.block", "kiln.cuda.cublas", "kiln.progress")), names::toString);
    Set<String> missing = new TreeSet<>(names);
    missing.removeIf(n -> doc.contains("| `" + n + "`"));
    assertEquals(Set.of(), missing, "properties without a row in docs/configuration.md");
  }
}
