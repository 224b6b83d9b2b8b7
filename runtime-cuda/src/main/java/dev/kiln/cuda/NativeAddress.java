package dev.kiln.cuda;

import java.lang.reflect.Method;
import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * The native address behind a jcuda handle or device pointer (jcuda keeps it in protected
 * accessors), for libraries called directly through java.lang.foreign. Read once per buffer when a
 * plan is built, not per run.
 */
final class NativeAddress {
  private NativeAddress() {}

  private static final Method NATIVE_POINTER;
  private static final Method BYTE_OFFSET;

  static {
    try {
      NATIVE_POINTER = NativePointerObject.class.getDeclaredMethod("getNativePointer");
      NATIVE_POINTER.setAccessible(true);
      BYTE_OFFSET = Pointer.class.getDeclaredMethod("getByteOffset");
      BYTE_OFFSET.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** A handle's address (a stream, a context), or a pointer's address plus its byte offset. */
  static long of(NativePointerObject o) {
    try {
      long base = (long) NATIVE_POINTER.invoke(o);
      return o instanceof Pointer p ? base + (long) BYTE_OFFSET.invoke(p) : base;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read jcuda's native address of " + o, e);
    }
  }

  /** Whether two pointers address the same byte. */
  static boolean same(NativePointerObject a, NativePointerObject b) {
    return of(a) == of(b);
  }
}
