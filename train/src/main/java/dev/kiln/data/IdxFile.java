package dev.kiln.data;

import java.util.Arrays;

/**
 * The contents of an IDX file of unsigned bytes (the MNIST format): its dimensions and its values in
 * row-major order, each 0..255 stored as a signed Java byte (read with {@code b & 0xff}).
 */
public record IdxFile(int[] dims, byte[] data) {
  public IdxFile {
    dims = dims.clone();
    if (dims.length == 0) {
      throw new IllegalArgumentException("IdxFile: no dimensions");
    }
    long n = 1;
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        throw new IllegalArgumentException("IdxFile: dimension " + i + " of " + Arrays.toString(dims) + " is negative");
      }
      // stops growing once past any array's length, so it cannot overflow
      n = Math.min(n * dims[i], Integer.MAX_VALUE + 1L);
    }
    if (n != data.length) {
      throw new IllegalArgumentException("IdxFile: dimensions " + Arrays.toString(dims) + " hold "
          + (n > Integer.MAX_VALUE ? "more than " + Integer.MAX_VALUE : n) + " values, got " + data.length);
    }
    if (itemSizeOf(dims) > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("IdxFile: an item of dimensions " + Arrays.toString(dims)
          + " holds more than " + Integer.MAX_VALUE + " values");
    }
  }

  @Override
  public int[] dims() {
    return dims.clone();
  }

  /** The number of items: the first dimension. */
  public int count() {
    return dims[0];
  }

  /** The number of values per item: the product of the dimensions after the first. */
  public int itemSize() {
    return (int) itemSizeOf(dims);
  }

  /** The product of the dimensions after the first, capped just past the int range. */
  private static long itemSizeOf(int[] dims) {
    long n = 1;
    for (int i = 1; i < dims.length; i++) {
      n = Math.min(n * dims[i], Integer.MAX_VALUE + 1L);
    }
    return n;
  }

  /** Value {@code i} (row-major) as an int 0..255. */
  public int get(int i) {
    return data[i] & 0xff;
  }

  @Override
  public String toString() {
    return "IdxFile" + Arrays.toString(dims);
  }
}
