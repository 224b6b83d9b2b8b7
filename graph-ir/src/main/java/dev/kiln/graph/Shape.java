package dev.kiln.graph;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor shape: a list of dimensions, each a size >= 0 or -1 for unknown (TensorFlow's None), or an
 * unknown rank altogether. Shapes are immutable values.
 */
public final class Shape {
  /**
   * The most elements a tensor can hold: tensors are Java arrays, and the JVM refuses arrays a few
   * elements short of {@link Integer#MAX_VALUE}. Every shape a graph value or tensor has is checked
   * against it, so element counts and offsets of real values always fit in an int.
   */
  public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private static final Shape UNKNOWN = new Shape(null);
  private static final Shape SCALAR = new Shape(new int[0]);

  private final int[] dims; // null: unknown rank

  private Shape(int[] dims) {
    this.dims = dims;
  }

  /** A shape of known rank; each dimension is a size >= 0 or -1 for unknown. */
  public static Shape of(int... dims) {
    Objects.requireNonNull(dims, "Shape.of: dims is null");
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < -1) {
        throw new IllegalArgumentException(
            "dimension " + i + " of shape " + Arrays.toString(dims).replace(" ", "")
                + " is " + dims[i] + ": a dimension is a size >= 0 or -1 for unknown");
      }
    }
    return dims.length == 0 ? SCALAR : new Shape(dims.clone());
  }

  /** A shape of known rank whose dimensions are all unknown. */
  public static Shape unknownDims(int rank) {
    if (rank < 0) {
      throw new IllegalArgumentException("rank must be >= 0, got " + rank);
    }
    int[] d = new int[rank];
    Arrays.fill(d, -1);
    return new Shape(d);
  }

  public static Shape scalar() {
    return SCALAR;
  }

  /** A shape whose rank is not known. */
  public static Shape unknown() {
    return UNKNOWN;
  }

  public boolean hasKnownRank() {
    return dims != null;
  }

  /** The number of dimensions, or -1 when the rank is unknown. */
  public int rank() {
    return dims == null ? -1 : dims.length;
  }

  /** Dimension {@code i} (negative i counts from the end); -1 when unknown. */
  public int dim(int i) {
    if (dims == null) {
      throw new IllegalStateException("shape of unknown rank has no dimension " + i);
    }
    int k = i < 0 ? i + dims.length : i;
    if (k < 0 || k >= dims.length) {
      throw new IndexOutOfBoundsException("dimension " + i + " out of range for shape " + this);
    }
    return dims[k];
  }

  /** A copy of the dimensions; fails for unknown rank. */
  public int[] dims() {
    if (dims == null) {
      throw new IllegalStateException("shape of unknown rank has no dimensions");
    }
    return dims.clone();
  }

  public boolean isFullyDefined() {
    if (dims == null) {
      return false;
    }
    for (int d : dims) {
      if (d < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Number of elements; -1 when not fully defined. Exact up to {@link Long#MAX_VALUE}, which it
   * returns for larger counts (no value can have such a shape: see {@link #MAX_ELEMENTS}).
   */
  public long numElements() {
    if (!isFullyDefined()) {
      return -1;
    }
    return knownElements();
  }

  /** The product of the known dimensions, saturated at Long.MAX_VALUE; 1 for unknown rank. */
  private long knownElements() {
    if (dims == null) {
      return 1;
    }
    long n = 1;
    boolean overflow = false;
    for (int d : dims) {
      if (d == 0) {
        return 0;
      }
      if (d > 0 && !overflow) {
        long hi = Math.multiplyHigh(n, d);
        n *= d;
        overflow = hi != 0 || n < 0;
      }
    }
    return overflow ? Long.MAX_VALUE : n;
  }

  /**
   * The number of elements of a fully defined shape that a tensor can hold, as an int. Fails if the
   * shape has unknown dimensions (IllegalStateException) or more than {@link #MAX_ELEMENTS} elements
   * (IllegalArgumentException naming the shape and its exact count).
   */
  public int elementCount() {
    if (!isFullyDefined()) {
      throw new IllegalStateException("shape " + this + " is not fully defined, so it has no element count");
    }
    String tooLarge = tooLargeForTensor();
    if (tooLarge != null) {
      throw new IllegalArgumentException(tooLarge);
    }
    return (int) knownElements();
  }

  /**
   * Whether a tensor can hold this shape's elements: with unknown dimensions, whether the known ones
   * alone are few enough (the unknown ones can only multiply them, unless one is 0).
   */
  public boolean fitsInTensor() {
    return knownElements() <= MAX_ELEMENTS;
  }

  /**
   * Fails unless {@link #fitsInTensor()}, with an IllegalArgumentException reading {@code what: shape
   * [..] has N elements, more than a tensor can hold (MAX_ELEMENTS)}; returns this shape.
   */
  public Shape requireFitsInTensor(String what) {
    String tooLarge = tooLargeForTensor();
    if (tooLarge != null) {
      throw new IllegalArgumentException(what + ": " + tooLarge);
    }
    return this;
  }

  /** Why no tensor can have this shape, naming its exact element count; null when one can. */
  String tooLargeForTensor() {
    if (fitsInTensor()) {
      return null;
    }
    BigInteger n = BigInteger.ONE;
    for (int d : dims) {
      n = d >= 0 ? n.multiply(BigInteger.valueOf(d)) : n;
    }
    return "shape " + this + " has " + n + " elements" + (isFullyDefined() ? "" : " in its known dimensions")
        + ", more than a tensor can hold (" + MAX_ELEMENTS + ")";
  }

  /** True if a value of shape {@code concrete} can be given where this shape is expected. */
  public boolean isCompatibleWith(Shape other) {
    Objects.requireNonNull(other, "isCompatibleWith: other shape is null");
    if (dims == null || other.dims == null) {
      return true;
    }
    if (dims.length != other.dims.length) {
      return false;
    }
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] >= 0 && other.dims[i] >= 0 && dims[i] != other.dims[i]) {
        return false;
      }
    }
    return true;
  }

  /** Merges what two compatible shapes know; fails if they are not compatible. */
  public Shape mergeWith(Shape other) {
    Objects.requireNonNull(other, "mergeWith: other shape is null");
    if (!isCompatibleWith(other)) {
      throw new IllegalArgumentException("shapes " + this + " and " + other + " are not compatible");
    }
    if (dims == null) {
      return other;
    }
    if (other.dims == null) {
      return this;
    }
    int[] d = new int[dims.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = dims[i] >= 0 ? dims[i] : other.dims[i];
    }
    return new Shape(d);
  }

  /**
   * NumPy broadcasting of two shapes, or null when they do not broadcast. An unknown dimension against
   * a known size n > 1 gives n; against 1 or unknown it stays unknown.
   */
  public static Shape broadcast(Shape a, Shape b) {
    Objects.requireNonNull(a, "Shape.broadcast: shape a is null");
    Objects.requireNonNull(b, "Shape.broadcast: shape b is null");
    if (a.dims == null || b.dims == null) {
      return UNKNOWN;
    }
    int r = Math.max(a.dims.length, b.dims.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int da = i < r - a.dims.length ? 1 : a.dims[i - (r - a.dims.length)];
      int db = i < r - b.dims.length ? 1 : b.dims[i - (r - b.dims.length)];
      if (da == db) {
        out[i] = da;
      } else if (da == 1) {
        out[i] = db;
      } else if (db == 1) {
        out[i] = da;
      } else if (da == -1) {
        out[i] = db;
      } else if (db == -1) {
        out[i] = da;
      } else {
        return null;
      }
    }
    return new Shape(out);
  }

  /** This shape with dimension {@code i} (negative i counts from the end) replaced. */
  public Shape withDim(int i, int size) {
    dim(i); // the same clear checks of rank and index as dim(i)
    int[] d = dims();
    d[i < 0 ? i + d.length : i] = size;
    return Shape.of(d);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && Arrays.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return dims == null ? -7 : Arrays.hashCode(dims);
  }

  /** {@code [64,1000]}, {@code [?,1000]} for unknown dimensions, {@code [*]} for unknown rank. */
  @Override
  public String toString() {
    if (dims == null) {
      return "[*]";
    }
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(dims[i] < 0 ? "?" : Integer.toString(dims[i]));
    }
    return sb.append(']').toString();
  }
}
