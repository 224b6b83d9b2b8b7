package dev.kiln.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Judges an exception by its kind, where it was thrown and whether its message says something, never by
 * exact wording, so that the campaigns keep working while error messages are rewritten.
 *
 * <p>Wrong: any {@link Error}; exception classes that only a JVM or JDK bug-path throws (array and string
 * index, class cast, negative array size, number format, buffer under/overflow, and arithmetic unless
 * Kiln threw it with its own message); a
 * {@link NullPointerException} with a JVM-generated message; an accepted kind thrown from inside the JDK
 * (a library check leaking out, e.g. {@code List.get}'s bounds check); an empty message; a message that
 * ends in "null" because a wrapped exception had none; and a message that names none of the
 * {@code relevant} words (the node, op, attribute, shape, file ... the input concerned).
 */
public final class Classify {
  private static final Set<String> RAW = Set.of(
      "java.lang.ArrayIndexOutOfBoundsException", "java.lang.StringIndexOutOfBoundsException",
      "java.lang.ClassCastException", "java.lang.NegativeArraySizeException",
      "java.lang.NumberFormatException", "java.lang.ArrayStoreException",
      "java.nio.BufferUnderflowException", "java.nio.BufferOverflowException",
      "java.util.ConcurrentModificationException", "java.util.NoSuchElementException",
      "java.lang.IllegalMonitorStateException", "java.util.regex.PatternSyntaxException",
      "java.nio.charset.MalformedInputException", "java.util.zip.ZipException", "java.io.EOFException");
  /** JVM helpful-NPE messages (JEP 358) start with one of these. */
  private static final Pattern JVM_NPE = Pattern.compile(
      "^(Cannot (invoke|read|load|store|assign|throw|enter|exit|get|set)\\b|.*because \".*\" is null).*", Pattern.DOTALL);
  private static final Pattern ENDS_IN_NULL = Pattern.compile("(?s).*[:=(]\\s*null\\)?\\s*$");

  private Classify() {}

  /** An exception from a bad API call: of an accepted kind, with a message naming one of {@code relevant}. */
  public static Verdict apiException(Throwable t, Collection<String> relevant) {
    Verdict kind = kind(t);
    if (!kind.handled()) {
      return kind;
    }
    return message(t, relevant);
  }

  /**
   * An exception from a file reader: of an accepted kind (the reader's own, an I/O exception, an
   * IllegalArgument/IllegalState one thrown by Kiln code) and naming the file.
   */
  public static Verdict readerException(Throwable t, String file) {
    Verdict kind = kind(t);
    if (!kind.handled()) {
      return kind;
    }
    return message(t, java.util.List.of(file));
  }

  /** The kind and throw site alone. */
  public static Verdict kind(Throwable t) {
    String cls = t.getClass().getName();
    String what = describe(t);
    if (t instanceof OutOfMemoryError) {
      return Verdict.failed("OutOfMemoryError", what);
    }
    if (t instanceof StackOverflowError) {
      return Verdict.failed("StackOverflowError", what);
    }
    if (t instanceof Error) {
      return Verdict.failed("Error: " + t.getClass().getSimpleName(), what);
    }
    if (RAW.contains(cls) || isRawArithmetic(t)) {
      return Verdict.failed("raw " + t.getClass().getSimpleName(), what);
    }
    if (t instanceof NullPointerException) {
      String m = t.getMessage();
      if (m == null || m.isBlank() || JVM_NPE.matcher(m).matches()) {
        return Verdict.failed("NullPointerException with a JVM message", what);
      }
    }
    boolean accepted = cls.startsWith("dev.kiln.") || t instanceof ArithmeticException
        || t instanceof IllegalArgumentException || t instanceof IllegalStateException
        || t instanceof IndexOutOfBoundsException || t instanceof UnsupportedOperationException
        || t instanceof NullPointerException || t instanceof IOException || t instanceof UncheckedIOException;
    if (!accepted) {
      return Verdict.failed("unexpected exception type " + t.getClass().getSimpleName(), what);
    }
    if (!cls.startsWith("dev.kiln.") && !(t instanceof IOException) && !(t instanceof UncheckedIOException)) {
      String site = jdkThrowSite(t);
      if (site != null) {
        return Verdict.failed("JDK " + t.getClass().getSimpleName() + " escaped from " + site, what);
      }
    }
    return Verdict.handled(what);
  }

  /**
   * An ArithmeticException the JVM or java.lang.Math made ("/ by zero", "integer overflow"); one that
   * Kiln code throws with its own message (an integer division by zero in a kernel, naming the op) is
   * judged like any other exception.
   */
  private static boolean isRawArithmetic(Throwable t) {
    if (!(t instanceof ArithmeticException)) {
      return false;
    }
    String m = t.getMessage();
    return m == null || m.equals("/ by zero") || m.endsWith(" overflow") || m.contains("divide by zero")
        || jdkThrowSite(t) != null;
  }

  private static Verdict message(Throwable t, Collection<String> relevant) {
    String what = describe(t);
    String m = t.getMessage();
    if (m == null || m.isBlank()) {
      return Verdict.failed("empty message: " + t.getClass().getSimpleName(), what);
    }
    if (ENDS_IN_NULL.matcher(m).matches()) {
      return Verdict.failed("message ends in 'null' (a wrapped exception had no message)", what);
    }
    if (!relevant.isEmpty()) {
      String lower = m.toLowerCase(Locale.ROOT);
      boolean names = relevant.stream().anyMatch(r -> lower.contains(r.toLowerCase(Locale.ROOT)));
      if (!names) {
        return Verdict.failed("message names nothing relevant", what + "   (looked for any of " + relevant + ")");
      }
    }
    return Verdict.handled(what);
  }

  /**
   * The JDK method that threw {@code t}, skipping argument-check helpers (Objects.requireNonNull,
   * Objects.checkIndex, Guava's Preconditions), which a caller uses on purpose; null if Kiln code threw it.
   */
  static String jdkThrowSite(Throwable t) {
    for (StackTraceElement e : t.getStackTrace()) {
      String c = e.getClassName();
      if (c.equals("java.util.Objects") || c.startsWith("jdk.internal.util.Preconditions")
          || c.startsWith("com.google.common.base.Preconditions") || c.startsWith("com.google.common.base.Verify")) {
        continue; // an argument check: whoever called it decided to throw
      }
      boolean jdk = c.startsWith("java.") || c.startsWith("javax.") || c.startsWith("jdk.") || c.startsWith("sun.")
          || c.startsWith("com.sun.");
      return jdk ? c.substring(c.lastIndexOf('.') + 1) + "." + e.getMethodName() : null;
    }
    return null;
  }

  /** {@code SimpleName: message}, with the first Kiln frame, in one line. */
  public static String describe(Throwable t) {
    String s = t.getClass().getSimpleName() + ": " + t.getMessage();
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getClassName().startsWith("dev.kiln.") && !e.getClassName().startsWith("dev.kiln.reliability.")) {
        return s + "  [at " + e.getClassName().substring(e.getClassName().lastIndexOf('.') + 1) + "."
            + e.getMethodName() + ":" + e.getLineNumber() + "]";
      }
    }
    return s;
  }
}
