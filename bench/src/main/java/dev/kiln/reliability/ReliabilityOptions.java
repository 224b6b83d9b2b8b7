package dev.kiln.reliability;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The reliability harness's settings, read from system properties in this one place (listed in
 * docs/configuration.md): {@code scripts/reliability.sh} sets them for each campaign's JVM.
 *
 * @param scale multiplies the number of cases each campaign tries ({@code kiln.reliability.scale})
 * @param root the repository root the campaigns read example files from ({@code kiln.reliability.root})
 * @param summary a file each campaign appends its summary rows to ({@code kiln.reliability.summary})
 * @param examples examples kept per failure category and of handled cases ({@code kiln.reliability.examples})
 * @param allHandled sample every handled case's message, up to {@code examples} ({@code kiln.reliability.allHandled})
 */
record ReliabilityOptions(double scale, Path root, Optional<Path> summary, int examples, boolean allHandled) {
  static final ReliabilityOptions CURRENT = new ReliabilityOptions(
      Double.parseDouble(System.getProperty("kiln.reliability.scale", "1")),
      Path.of(System.getProperty("kiln.reliability.root", ".")).toAbsolutePath().normalize(),
      Optional.ofNullable(System.getProperty("kiln.reliability.summary")).map(Path::of),
      Integer.getInteger("kiln.reliability.examples", 6),
      Boolean.getBoolean("kiln.reliability.allHandled"));
}
