package dev.kiln.cli;

/**
 * A .npy file that kiln cannot read: not NumPy's format, truncated, a header that does not parse, or an
 * array kiln does not support. The message reads {@code file: what is wrong}, on one line.
 */
final class NpyFormatException extends IllegalArgumentException {
  NpyFormatException(String message) {
    super(message);
  }
}
