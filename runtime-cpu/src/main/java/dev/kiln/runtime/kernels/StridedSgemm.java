package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Blas;
import dev.kiln.runtime.blas.Downcalls;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * sgemm on sub-matrices of heap arrays: each operand is an array, an element offset and a leading
 * dimension, as BLAS takes them, so a convolution multiplies one group's block of a filter or writes
 * one chunk of images' rows of its output in place. The operands go to OpenBLAS as slices of heap
 * segments through a critical downcall (JDK 22+); where there is none ({@link #AVAILABLE} false),
 * callers use their own loops.
 */
final class StridedSgemm {
  private StridedSgemm() {}

  private static final Logger LOG = Logger.getLogger(StridedSgemm.class.getName());

  /** cblas_sgemm taking (array, element offset) pairs for a, b and c. */
  private static final MethodHandle SGEMM = load();

  /** Whether {@link #sgemm} can be called. */
  static final boolean AVAILABLE = SGEMM != null;

  private static MethodHandle load() {
    try {
      if (Blas.USED != Blas.Library.OPENBLAS || Blas.LIBRARY == null || !Blas.ZERO_COPY) {
        return null;
      }
      // Segment parameters are typed Object here (the code compiles for Java 21, without java.lang.foreign).
      MethodType raw = MethodType.methodType(void.class, int.class, int.class, int.class, int.class, int.class,
          int.class, float.class, Object.class, int.class, Object.class, int.class, float.class, Object.class,
          int.class);
      MethodHandle h = Downcalls.critical(Path.of(Blas.LIBRARY), "cblas_sgemm", raw);
      Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
      MethodHandle ofArray = MethodHandles.publicLookup().findStatic(segment, "ofArray",
          MethodType.methodType(segment, float[].class));
      MethodHandle asSlice = MethodHandles.publicLookup().findVirtual(segment, "asSlice",
          MethodType.methodType(segment, long.class));
      // (float[] array, long byteOffset) -> segment slice, typed as Object.
      MethodHandle slice = MethodHandles.filterArguments(asSlice, 0, ofArray)
          .asType(MethodType.methodType(Object.class, float[].class, long.class));
      // Replace c, then b, then a, so that the earlier indices stay put.
      h = MethodHandles.collectArguments(h, 12, slice);
      h = MethodHandles.collectArguments(h, 9, slice);
      h = MethodHandles.collectArguments(h, 7, slice);
      return h.asType(MethodType.methodType(void.class, int.class, int.class, int.class, int.class, int.class,
          int.class, float.class, float[].class, long.class, int.class, float[].class, long.class, int.class,
          float.class, float[].class, long.class, int.class));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "no strided sgemm downcall; convolutions use Java loops", e);
      return null;
    }
  }

  private static final int ROW_MAJOR = 101;
  private static final int NO_TRANS = 111;
  private static final int TRANS = 112;

  /**
   * c[m,n] = alpha * op(a) op(b) + beta * c, row-major: a at element {@code ao} with leading dimension
   * {@code lda} ([m,k], or [k,m] stored when ta), b at {@code bo} ([k,n], or [n,k] when tb), c at
   * {@code co} with leading dimension {@code ldc}.
   */
  static void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int ao, int lda,
      float[] b, int bo, int ldb, float beta, float[] c, int co, int ldc) {
    try {
      SGEMM.invokeExact(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, alpha,
          a, 4L * ao, lda, b, 4L * bo, ldb, beta, c, 4L * co, ldc);
    } catch (Throwable t) {
      throw Blas.rethrow(t);
    }
  }
}
