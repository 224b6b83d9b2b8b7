package dev.kiln.cli;

import dev.kiln.graph.GraphParseException;
import dev.kiln.onnx.OnnxImportException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Optional;

/** The one line {@code kiln} prints for a failed command: the file concerned and what is wrong. */
final class Failure {
  private Failure() {}

  /**
   * What went wrong, on one line. Failures that name their own file (a parse error, a bad .npy file, a
   * file that cannot be read) are told as they are; others are prefixed with the command's file, if any.
   * {@code traced} says whether the stack trace follows.
   */
  static String describe(Throwable failure, Optional<Path> commandFile, boolean traced) {
    String what = switch (failure) {
      case GraphParseException e -> e.getMessage();
      case NpyFormatException e -> e.getMessage();
      case OnnxImportException e -> e.getMessage(); // names the model file itself
      case UncheckedIOException e when e.getMessage() != null -> e.getMessage();
      case FileSystemException e when e.getFile() != null -> e.getFile() + ": " + reason(e);
      case OutOfMemoryError e -> "out of memory (" + e.getMessage() + "); give Java more heap, e.g. KILN_JAVA_OPTS=-Xmx8g";
      case StackOverflowError e -> "stack overflow: the input nests too deeply";
      case NullPointerException e -> internal(e, traced);
      case ClassCastException e -> internal(e, traced);
      case IndexOutOfBoundsException e -> internal(e, traced);
      case NegativeArraySizeException e -> internal(e, traced);
      case ArrayStoreException e -> internal(e, traced);
      case Error e -> internal(e, traced);
      case Exception e when e.getMessage() != null && !e.getMessage().isBlank() ->
          commandFile.map(f -> f + ": ").orElse("") + e.getMessage();
      default -> internal(failure, traced);
    };
    return what.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** Why a file operation failed, in words: "no such file", "permission denied", ... */
  static String reason(IOException e) {
    return switch (e) {
      case NoSuchFileException f -> "no such file";
      case AccessDeniedException f -> "permission denied";
      case FileAlreadyExistsException f -> "already exists";
      case NotDirectoryException f -> "not a directory";
      case FileSystemException f when f.getReason() != null -> f.getReason();
      default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    };
  }

  private static String internal(Throwable e, boolean traced) {
    return "internal error: " + e + (traced ? "" : " (rerun with --stacktrace to see where)");
  }
}
