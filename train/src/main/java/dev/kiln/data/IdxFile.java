package dev.kiln.data;

import java.util.Arrays;

/**
 * The contents of an IDX file of unsigned bytes (the MNIST format): its dimensions and its values in
 * row-major order, each 0..255 stored as a signed Java byte (read with {@code b & 0xff}).
 */
public record IdxFile(int[] dims, byte[] data) {
  public IdxFile {
    dims = dims.clone();
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
    int n = 1;
    for (int i = 1; i < dims.length; i++) {
      n *= dims[i];
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
