package dev.kiln.graph;

/**
 * Runtime SPI: no-copy access to the arrays behind {@link Tensor}s. A runtime may read the array of
 * any tensor but must never write to one it did not create; an array handed to {@link #adopt} must
 * not be written afterwards. Application code should use Tensor's copying factories and getters.
 */
public final class HostBuffers {
  private HostBuffers() {}

  /** The tensor's storage array (float[], double[], int[], long[] or boolean[]); do not modify. */
  public static Object array(Tensor t) {
    return java.util.Objects.requireNonNull(t, "HostBuffers.array: tensor is null").data();
  }

  /** Wraps {@code array} (whose length must equal the shape's element count) as a tensor, no copy. */
  public static Tensor adopt(DType dtype, Shape shape, Object array) {
    return Tensor.adopt(dtype, shape, array);
  }

  /**
   * Wraps {@code array}, which the runtime keeps and may write again once {@code loan} ends, as a
   * tensor, no copy; the tensor's reads fail after that (see {@link Tensor}).
   */
  public static Tensor lend(DType dtype, Shape shape, Object array, Loan loan) {
    return Tensor.lend(dtype, shape, array, loan);
  }

  /** What a lent tensor asks before and after each read of its values. */
  @FunctionalInterface
  public interface Loan {
    /** Returns while the loan is open; otherwise throws an {@link IllegalStateException} saying why. */
    void requireOpen();
  }

  /** A new zeroed storage array for {@code n} (0..{@link Shape#MAX_ELEMENTS}) elements of {@code dtype}. */
  public static Object allocate(DType dtype, int n) {
    return Tensor.allocate(dtype, n);
  }

  /**
   * Copies {@code count} values from {@code src} (from its position, in its byte order) into a storage
   * array at {@code at}: what a file reader does with each chunk it reads. A bool is one byte, true
   * when not 0; a reader with a stricter rule checks the bytes first.
   */
  public static void decode(java.nio.ByteBuffer src, Object array, int at, int count) {
    switch (array) {
      case float[] a -> src.asFloatBuffer().get(a, at, count);
      case double[] a -> src.asDoubleBuffer().get(a, at, count);
      case int[] a -> src.asIntBuffer().get(a, at, count);
      case long[] a -> src.asLongBuffer().get(a, at, count);
      case boolean[] a -> {
        for (int j = 0; j < count; j++) {
          a[at + j] = src.get(src.position() + j) != 0;
        }
      }
      default -> throw new IllegalArgumentException("decode: not a storage array: " + array.getClass().getName());
    }
  }

  /**
   * Like {@link #decode(java.nio.ByteBuffer, Object, int, int)} for elements of {@code dtype} stored at
   * its {@link DType#byteSize()}: a float16 or bfloat16 is its 16 bits, an int8, uint8 or int16 its
   * two's complement bytes (uint8 unsigned), each widened into the storage array.
   */
  public static void decode(DType dtype, java.nio.ByteBuffer src, Object array, int at, int count) {
    int p = src.position();
    switch (dtype) {
      case FLOAT16 -> {
        float[] a = (float[]) array;
        for (int j = 0; j < count; j++) {
          a[at + j] = Narrowing.fromFloat16Bits(src.getShort(p + 2 * j));
        }
      }
      case BFLOAT16 -> {
        float[] a = (float[]) array;
        for (int j = 0; j < count; j++) {
          a[at + j] = Narrowing.fromBfloat16Bits(src.getShort(p + 2 * j));
        }
      }
      case INT8 -> {
        int[] a = (int[]) array;
        for (int j = 0; j < count; j++) {
          a[at + j] = src.get(p + j);
        }
      }
      case UINT8 -> {
        int[] a = (int[]) array;
        for (int j = 0; j < count; j++) {
          a[at + j] = src.get(p + j) & 0xFF;
        }
      }
      case INT16 -> {
        int[] a = (int[]) array;
        for (int j = 0; j < count; j++) {
          a[at + j] = src.getShort(p + 2 * j);
        }
      }
      default -> decode(src, array, at, count);
    }
  }

  /**
   * Writes {@code count} elements of {@code dtype} from a storage array at {@code at} into {@code dst}
   * at its position (advancing it), each at {@link DType#byteSize()} in {@code dst}'s byte order: the
   * inverse of {@link #decode(DType, java.nio.ByteBuffer, Object, int, int)}; a bool is a byte 0 or 1.
   */
  public static void encode(DType dtype, Object array, int at, int count, java.nio.ByteBuffer dst) {
    switch (dtype) {
      case FLOAT32 -> {
        float[] a = (float[]) array;
        for (int j = 0; j < count; j++) {
          dst.putFloat(a[at + j]);
        }
      }
      case FLOAT64 -> {
        double[] a = (double[]) array;
        for (int j = 0; j < count; j++) {
          dst.putDouble(a[at + j]);
        }
      }
      case INT32 -> {
        int[] a = (int[]) array;
        for (int j = 0; j < count; j++) {
          dst.putInt(a[at + j]);
        }
      }
      case INT64 -> {
        long[] a = (long[]) array;
        for (int j = 0; j < count; j++) {
          dst.putLong(a[at + j]);
        }
      }
      case BOOL -> {
        boolean[] a = (boolean[]) array;
        for (int j = 0; j < count; j++) {
          dst.put((byte) (a[at + j] ? 1 : 0));
        }
      }
      case FLOAT16, BFLOAT16 -> {
        float[] a = (float[]) array;
        for (int j = 0; j < count; j++) {
          dst.putShort(dtype == DType.FLOAT16 ? Narrowing.float16Bits(a[at + j]) : Narrowing.bfloat16Bits(a[at + j]));
        }
      }
      case INT8, UINT8 -> {
        int[] a = (int[]) array;
        for (int j = 0; j < count; j++) {
          dst.put((byte) a[at + j]);
        }
      }
      case INT16 -> {
        int[] a = (int[]) array;
        for (int j = 0; j < count; j++) {
          dst.putShort((short) a[at + j]);
        }
      }
    }
  }
}
