package dev.kiln.spark;

/**
 * The parameter vector of {@code size} values cut into {@code parts} contiguous slices of near-equal
 * size; worker {@code i} owns slice {@code i}: it sums that slice of every worker's gradients.
 */
record Slices(int size, int parts) implements java.io.Serializable {
  Slices {
    if (parts < 1) {
      throw new IllegalArgumentException("Slices: parts must be at least 1, got " + parts);
    }
  }

  int from(int i) {
    return (int) ((long) size * i / parts);
  }

  int to(int i) {
    return from(i + 1);
  }
}
