package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The ./example launcher lists every example program, and only those, each with a description. */
class ExampleListTest {
  // Surefire runs in the module's folder; the launcher is at the repository root.
  private static final Path LAUNCHER = Path.of("../example");
  private static final Path SOURCES = Path.of("src/main/java/dev/kiln/examples");
  private static final Pattern ENTRY = Pattern.compile("^\\s*\"(\\w+)\\|([^\"]+)\"\\s*$", Pattern.MULTILINE);

  @Test
  void theLauncherListsEveryClassWithAMainMethod() throws IOException {
    List<MatchResult> entries = ENTRY.matcher(Files.readString(LAUNCHER, StandardCharsets.UTF_8)).results().toList();
    entries.forEach(r -> assertTrue(r.group(2).length() > 20, "a description for " + r.group(1)));
    List<String> listed = entries.stream().map(r -> r.group(1)).sorted().toList();
    List<String> programs;
    try (Stream<Path> files = Files.list(SOURCES)) {
      programs = files.filter(ExampleListTest::hasMain).map(f -> f.getFileName().toString().replace(".java", "")).sorted()
          .toList();
    }
    assertTrue(programs.contains("MnistClassifier"), programs.toString());
    assertEquals(programs, listed);
  }

  private static boolean hasMain(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).contains("public static void main(String[] args)");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
