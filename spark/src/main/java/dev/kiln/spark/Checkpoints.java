package dev.kiln.spark;

import dev.kiln.runtime.Session;
import dev.kiln.train.Saver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A run's checkpoint files, {@code step-<k>.ckpt} in one folder (none when no folder is given). */
final class Checkpoints {
  private static final Pattern NAME = Pattern.compile("step-(\\d+)\\.ckpt");

  private final Optional<Path> dir;

  Checkpoints(Optional<Path> dir) {
    this.dir = dir;
  }

  record Found(long step, byte[] bytes) {}

  void write(long step, byte[] bytes) {
    if (dir.isEmpty()) {
      return;
    }
    try {
      Files.createDirectories(dir.get());
      Saver.write(bytes, dir.get().resolve(String.format(Locale.ROOT, "step-%08d.ckpt", step)));
    } catch (IOException e) {
      throw new UncheckedIOException("SparkTrainer: writing the checkpoint of step " + step + ": " + e.getMessage(), e);
    }
  }

  /**
   * The newest checkpoint in the folder, checked against the training graph by restoring it into a
   * Session of that graph (a checkpoint of another model fails here, naming the variable).
   */
  Optional<Found> newest(StepProgram program) {
    if (dir.isEmpty() || !Files.isDirectory(dir.get())) {
      return Optional.empty();
    }
    Optional<Path> newest;
    try (Stream<Path> files = Files.list(dir.get())) {
      newest = files.filter(f -> NAME.matcher(f.getFileName().toString()).matches())
          .max(Comparator.comparingLong(Checkpoints::stepOf));
    } catch (IOException e) {
      throw new UncheckedIOException("SparkTrainer: listing checkpoints in " + dir.get() + ": " + e.getMessage(), e);
    }
    if (newest.isEmpty()) {
      return Optional.empty();
    }
    try (Session s = new Session(program.parse())) {
      Saver.restore(s, newest.get());
      return Optional.of(new Found(stepOf(newest.get()), Saver.toBytes(s)));
    } catch (IOException e) {
      throw new UncheckedIOException("SparkTrainer: resuming from " + newest.get() + ": " + e.getMessage(), e);
    }
  }

  private static long stepOf(Path file) {
    Matcher m = NAME.matcher(file.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a step checkpoint: " + file);
    }
    return Long.parseLong(m.group(1));
  }
}
