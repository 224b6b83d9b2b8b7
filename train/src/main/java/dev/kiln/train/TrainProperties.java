package dev.kiln.train;

import java.util.Optional;

/**
 * The train module's {@code kiln.*} system properties, read in this class only (a test keeps it so);
 * docs/configuration.md lists them all. Read on each call rather than once, so that a launcher or a
 * test may set them after the class has loaded.
 */
final class TrainProperties {
  private TrainProperties() {}

  /**
   * {@code kiln.progress}: whether training progress bars are shown regardless of the terminal
   * ({@code true} shows them, any other value hides them); empty when unset.
   */
  static Optional<Boolean> progress() {
    return Optional.ofNullable(System.getProperty("kiln.progress")).map(Boolean::parseBoolean);
  }
}
