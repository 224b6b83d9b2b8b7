package dev.kiln.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Copies between Java storage arrays and (pinned, native-order) byte buffers; bool is one byte. */
final class HostArrays {
  private HostArrays() {}

  /** Bytes per element of a storage array on the device. */
  static int elementSize(Object array) {
    return switch (array) {
      case float[] a -> 4;
      case int[] a -> 4;
      case double[] a -> 8;
      case long[] a -> 8;
      case boolean[] a -> 1;
      default -> throw new IllegalArgumentException("not a storage array: " + array.getClass());
    };
  }

  static void put(Object array, int n, ByteBuffer dst, long offset) {
    put(array, 0, n, dst, offset);
  }

  /** Elements {@code [from, from + n)} of {@code array} into {@code dst} at byte {@code offset}. */
  static void put(Object array, int from, int n, ByteBuffer dst, long offset) {
    ByteBuffer b = dst.duplicate().order(ByteOrder.nativeOrder()).position((int) offset);
    switch (array) {
      case float[] a -> b.asFloatBuffer().put(a, from, n);
      case double[] a -> b.asDoubleBuffer().put(a, from, n);
      case int[] a -> b.asIntBuffer().put(a, from, n);
      case long[] a -> b.asLongBuffer().put(a, from, n);
      case boolean[] a -> {
        for (int i = 0; i < n; i++) {
          b.put((byte) (a[from + i] ? 1 : 0));
        }
      }
      default -> throw new IllegalArgumentException("not a storage array: " + array.getClass());
    }
  }

  static void get(ByteBuffer src, long offset, Object array, int n) {
    get(src, offset, array, 0, n);
  }

  /** {@code n} elements from {@code src} at byte {@code offset} into {@code array} from {@code from}. */
  static void get(ByteBuffer src, long offset, Object array, int from, int n) {
    ByteBuffer b = src.duplicate().order(ByteOrder.nativeOrder()).position((int) offset);
    switch (array) {
      case float[] a -> b.asFloatBuffer().get(a, from, n);
      case double[] a -> b.asDoubleBuffer().get(a, from, n);
      case int[] a -> b.asIntBuffer().get(a, from, n);
      case long[] a -> b.asLongBuffer().get(a, from, n);
      case boolean[] a -> {
        for (int i = 0; i < n; i++) {
          a[from + i] = b.get() != 0;
        }
      }
      default -> throw new IllegalArgumentException("not a storage array: " + array.getClass());
    }
  }

  /** In-place host assign-add/sub (variables placed on the host). */
  static void update(Object var, Object value, int n, boolean subtract) {
    int s = subtract ? -1 : 1;
    switch (var) {
      case float[] a -> { float[] v = (float[]) value; for (int i = 0; i < n; i++) a[i] += s * v[i]; }
      case double[] a -> { double[] v = (double[]) value; for (int i = 0; i < n; i++) a[i] += s * v[i]; }
      case int[] a -> { int[] v = (int[]) value; for (int i = 0; i < n; i++) a[i] += s * v[i]; }
      case long[] a -> { long[] v = (long[]) value; for (int i = 0; i < n; i++) a[i] += s * v[i]; }
      default -> throw new IllegalArgumentException("cannot add to a " + var.getClass().getSimpleName());
    }
  }
}
