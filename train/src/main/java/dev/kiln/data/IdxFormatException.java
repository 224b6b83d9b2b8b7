package dev.kiln.data;

/** An IDX file that does not follow the format: a bad magic number, a size mismatch, truncation. */
public final class IdxFormatException extends IllegalArgumentException {
  public IdxFormatException(String message) {
    super(message);
  }
}
