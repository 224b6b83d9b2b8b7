package dev.kiln.cli;

final class NpyFormatException extends IllegalArgumentException {
  NpyFormatException(String message) {
    super(message);
  }
}
