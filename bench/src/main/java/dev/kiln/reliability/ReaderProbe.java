package dev.kiln.reliability;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Runs one file reader on one file and judges it: the reader's exception must be of an accepted kind
 * and name the file; a successful read must pass the caller's consistency check; and the read must not
 * allocate far more than the file could justify (an allocation sized from an unchecked header).
 */
final class ReaderProbe {
  /** A read allocating more than this and more than {@link #ALLOCATION_FACTOR} times the file size is flagged. */
  static final long ALLOCATION_FLOOR = 32L << 20;
  static final long ALLOCATION_FACTOR = 64;

  @FunctionalInterface
  interface Reader<T> {
    T read(Path file) throws Exception;
  }

  @FunctionalInterface
  interface Consistent<T> {
    /** Null when the value read is consistent (with the file, with itself); else what is wrong. */
    String problem(T value);
  }

  private ReaderProbe() {}

  static <T> Verdict probe(Path file, long fileSize, Reader<T> reader, Consistent<T> consistent) {
    long before = allocated();
    T value;
    try {
      value = reader.read(file);
    } catch (Throwable t) {
      Throwable e = unwrapReflection(t);
      long used = allocated() - before;
      Verdict v = Classify.readerException(e, file.getFileName().toString());
      if (v.handled() && tooMuch(used, fileSize)) {
        return Verdict.failed("allocated far more than the file holds", mb(used) + " allocated for a "
            + fileSize + "-byte file before failing with " + Classify.describe(e));
      }
      return v;
    }
    long used = allocated() - before;
    String problem = consistent.problem(value);
    if (problem != null) {
      return Verdict.failed("read an inconsistent value (silent success)", problem);
    }
    if (tooMuch(used, fileSize)) {
      return Verdict.failed("allocated far more than the file holds", mb(used) + " allocated for a " + fileSize + "-byte file");
    }
    return Verdict.handled("read a consistent value: " + value);
  }

  static Throwable unwrapReflection(Throwable t) {
    return t instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : t;
  }

  private static boolean tooMuch(long used, long fileSize) {
    return used > ALLOCATION_FLOOR && used > ALLOCATION_FACTOR * Math.max(fileSize, 1);
  }

  static long allocated() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  static String mb(long bytes) {
    return String.format("%.1f MB", bytes / 1048576.0);
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.out.println("could not delete " + dir + ": " + e);
    }
  }
}
