package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.Optional;

/** Small helpers shared by the kernel factories: error messages and sizes. */
public final class KernelSupport {
  private KernelSupport() {}

  /** An exception whose message reads {@code OpType 'node/name': message}, like graph-ir's errors. */
  public static IllegalArgumentException error(KernelSpec spec, String format, Object... args) {
    return new IllegalArgumentException(
        spec.op().type() + " '" + spec.op().name() + "': " + String.format(format, args));
  }

  public static IllegalArgumentException unsupported(KernelSpec spec, DType dtype) {
    return error(spec, "no CPU kernel for dtype %s", dtype.shortName());
  }

  /** Element count of a concrete type. */
  public static int size(TensorType t) {
    if (!t.shape().isFullyDefined()) {
      throw new IllegalArgumentException("kernel needs a fully defined shape, got " + t);
    }
    return t.shape().elementCount();
  }

  /**
   * The array a plan binds to input {@code i} when it comes from a Const node: the constant's own
   * array, so a kernel can tell in a run whether the constant was fed over ({@code frame[slot] != it}).
   */
  static Optional<Object> constantArray(KernelSpec spec, int i) {
    Operation src = spec.op().input(i).op();
    return src.type().equals("Const") ? Optional.of(HostBuffers.array(src.attrs().getTensor("value"))) : Optional.empty();
  }

  static DType inDType(KernelSpec spec, int i) {
    return spec.inputs().get(i).dtype();
  }

  public static DType outDType(KernelSpec spec, int i) {
    return spec.outputs().get(i).dtype();
  }

  static int[] inDims(KernelSpec spec, int i) {
    return spec.inputs().get(i).shape().dims();
  }

  public static int[] outDims(KernelSpec spec, int i) {
    return spec.outputs().get(i).shape().dims();
  }

  /** Normalizes a possibly negative axis; inference has already range-checked it. */
  static int axis(long axis, int rank) {
    return (int) (axis < 0 ? axis + rank : axis);
  }

  /** Row-major element strides of {@code dims}. */
  static int[] strides(int[] dims) {
    int[] s = new int[dims.length];
    int acc = 1;
    for (int i = dims.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= dims[i];
    }
    return s;
  }

  static long product(int[] dims, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= dims[i];
    }
    return p;
  }
}
