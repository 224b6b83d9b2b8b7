package dev.kiln.graph;

import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable host value: a dtype, a fully defined shape and row-major data held on the Java heap
 * (so it never needs closing). Storage is a {@code float[]}, {@code double[]}, {@code int[]},
 * {@code long[]} or {@code boolean[]} according to the dtype. Factories copy the caller's array.
 *
 * <p>A tensor a runtime lent out of its own memory ({@link HostBuffers#lend}, e.g. a variable
 * fetched by {@code Session.Runner.runNoCopy()}) is valid only while its loan is open: once the loan
 * ends, every read of its values fails with an {@link IllegalStateException} instead of returning
 * values the runtime may have overwritten since.
 */
public final class Tensor {
  private final DType dtype;
  private final Shape shape;
  private final Object data;
  /** The loan this tensor's storage is on, or null for a tensor that owns its storage. */
  private final HostBuffers.Loan loan;

  private Tensor(DType dtype, Shape shape, Object data) {
    this(dtype, shape, data, null);
  }

  private Tensor(DType dtype, Shape shape, Object data, HostBuffers.Loan loan) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
    this.loan = loan;
  }

  public static Tensor of(float[] data, int... dims) {
    return create(DType.FLOAT32, Objects.requireNonNull(data, "Tensor.of: data is null").clone(), data.length, dims);
  }

  public static Tensor of(double[] data, int... dims) {
    return create(DType.FLOAT64, Objects.requireNonNull(data, "Tensor.of: data is null").clone(), data.length, dims);
  }

  public static Tensor of(int[] data, int... dims) {
    return create(DType.INT32, Objects.requireNonNull(data, "Tensor.of: data is null").clone(), data.length, dims);
  }

  public static Tensor of(long[] data, int... dims) {
    return create(DType.INT64, Objects.requireNonNull(data, "Tensor.of: data is null").clone(), data.length, dims);
  }

  public static Tensor of(boolean[] data, int... dims) {
    return create(DType.BOOL, Objects.requireNonNull(data, "Tensor.of: data is null").clone(), data.length, dims);
  }

  public static Tensor scalar(float v) {
    return new Tensor(DType.FLOAT32, Shape.scalar(), new float[] {v});
  }

  public static Tensor scalar(double v) {
    return new Tensor(DType.FLOAT64, Shape.scalar(), new double[] {v});
  }

  public static Tensor scalar(int v) {
    return new Tensor(DType.INT32, Shape.scalar(), new int[] {v});
  }

  public static Tensor scalar(long v) {
    return new Tensor(DType.INT64, Shape.scalar(), new long[] {v});
  }

  public static Tensor scalar(boolean v) {
    return new Tensor(DType.BOOL, Shape.scalar(), new boolean[] {v});
  }

  /** A tensor of zeros (false for BOOL). */
  public static Tensor zeros(DType dtype, Shape shape) {
    Objects.requireNonNull(dtype, "Tensor.zeros: dtype is null");
    Objects.requireNonNull(shape, "Tensor.zeros: shape is null");
    requireConcrete(shape);
    return new Tensor(dtype, shape, allocate(dtype, checkedSize(shape, "Tensor.zeros")));
  }

  private static Tensor create(DType dtype, Object data, int length, int[] dims) {
    Shape shape = Shape.of(Objects.requireNonNull(dims, "Tensor.of: dims is null"));
    requireConcrete(shape);
    int n = checkedSize(shape, "Tensor.of");
    if (n != length) {
      throw new IllegalArgumentException(
          "Tensor.of: " + length + " values do not fill shape " + shape + " (" + n
              + (n == 1 ? " element)" : " elements)"));
    }
    return new Tensor(dtype, shape, data);
  }

  private static void requireConcrete(Shape shape) {
    if (!shape.isFullyDefined()) {
      throw new IllegalArgumentException("a tensor's shape must be fully defined, got " + shape);
    }
  }

  /** The element count of a fully defined shape, failing (message starting {@code what}) if no tensor can hold it. */
  private static int checkedSize(Shape shape, String what) {
    return shape.requireFitsInTensor(what).elementCount();
  }

  /** A new zeroed array of the storage type for {@code dtype}. */
  static Object allocate(DType dtype, int n) {
    Objects.requireNonNull(dtype, "HostBuffers.allocate: dtype is null");
    if (n < 0 || n > Shape.MAX_ELEMENTS) {
      throw new IllegalArgumentException("HostBuffers.allocate: " + n + " elements: a size is 0.." + Shape.MAX_ELEMENTS);
    }
    return switch (dtype) {
      case FLOAT32 -> new float[n];
      case FLOAT64 -> new double[n];
      case INT32 -> new int[n];
      case INT64 -> new long[n];
      case BOOL -> new boolean[n];
    };
  }

  /** Wraps an array without copying; for {@link HostBuffers}. */
  static Tensor adopt(DType dtype, Shape shape, Object data) {
    return wrap("HostBuffers.adopt", dtype, shape, data, null);
  }

  /** Wraps a runtime's array without copying, readable while {@code loan} is open; for {@link HostBuffers}. */
  static Tensor lend(DType dtype, Shape shape, Object data, HostBuffers.Loan loan) {
    return wrap("HostBuffers.lend", dtype, shape, data, Objects.requireNonNull(loan, "HostBuffers.lend: loan is null"));
  }

  private static Tensor wrap(String what, DType dtype, Shape shape, Object data, HostBuffers.Loan loan) {
    Objects.requireNonNull(dtype, () -> what + ": dtype is null");
    Objects.requireNonNull(shape, () -> what + ": shape is null");
    Objects.requireNonNull(data, () -> what + ": storage array is null");
    requireConcrete(shape);
    int n = checkedSize(shape, what);
    boolean ok = switch (dtype) {
      case FLOAT32 -> data instanceof float[] a && a.length == n;
      case FLOAT64 -> data instanceof double[] a && a.length == n;
      case INT32 -> data instanceof int[] a && a.length == n;
      case INT64 -> data instanceof long[] a && a.length == n;
      case BOOL -> data instanceof boolean[] a && a.length == n;
    };
    if (!ok) {
      throw new IllegalArgumentException("storage " + data.getClass().getSimpleName() + " does not match "
          + new TensorType(dtype, shape));
    }
    return new Tensor(dtype, shape, data, loan);
  }

  /** The storage array, for runtimes; fails if the tensor's loan has ended. */
  Object data() {
    return values();
  }

  /** The storage, checked before a read (the loan is still open). */
  private Object values() {
    if (loan != null) {
      loan.requireOpen();
    }
    return data;
  }

  /**
   * {@code read}'s result, checked after the read: a loan that ended while the values were being
   * read may have let the runtime overwrite them mid-read.
   */
  private <T> T checked(T read) {
    if (loan != null) {
      loan.requireOpen();
    }
    return read;
  }

  public DType dtype() {
    return dtype;
  }

  public Shape shape() {
    return shape;
  }

  public TensorType type() {
    return new TensorType(dtype, shape);
  }

  /** Number of elements. */
  public int size() {
    return java.lang.reflect.Array.getLength(data);
  }

  public float[] toFloatArray() {
    return checked(((float[]) require(DType.FLOAT32, "toFloatArray")).clone());
  }

  /** The values as doubles; widens from any numeric dtype. */
  public double[] toDoubleArray() {
    return checked(switch (values()) {
      case double[] d -> d.clone();
      case float[] f -> {
        double[] r = new double[f.length];
        for (int i = 0; i < f.length; i++) {
          r[i] = f[i];
        }
        yield r;
      }
      case int[] a -> Arrays.stream(a).asDoubleStream().toArray();
      case long[] a -> Arrays.stream(a).asDoubleStream().toArray();
      default -> throw new IllegalStateException("toDoubleArray: tensor is " + dtype + ", not numeric");
    });
  }

  public int[] toIntArray() {
    return checked(((int[]) require(DType.INT32, "toIntArray")).clone());
  }

  public long[] toLongArray() {
    return checked(((long[]) require(DType.INT64, "toLongArray")).clone());
  }

  public boolean[] toBooleanArray() {
    return checked(((boolean[]) require(DType.BOOL, "toBooleanArray")).clone());
  }

  private Object require(DType want, String what) {
    if (dtype != want) {
      throw new IllegalStateException(what + ": tensor is " + dtype + ", not " + want);
    }
    return values();
  }

  /** Element {@code i} (row-major) as a double, from any numeric dtype; BOOL gives 0 or 1. */
  public double getDouble(int i) {
    if (i < 0 || i >= size()) {
      throw new IndexOutOfBoundsException(
          "getDouble: index " + i + " is out of range for " + type() + " (" + size() + (size() == 1 ? " element)" : " elements)"));
    }
    double v = switch (values()) {
      case float[] a -> a[i];
      case double[] a -> a[i];
      case int[] a -> a[i];
      case long[] a -> a[i];
      case boolean[] a -> a[i] ? 1 : 0;
      default -> throw new AssertionError();
    };
    return checked(v);
  }

  private double scalarValue(String what) {
    if (size() != 1) {
      throw new IllegalStateException(what + ": tensor of shape " + shape + " is not a single value");
    }
    return getDouble(0);
  }

  /** The single value of a one-element tensor, converted from any numeric dtype. */
  public float floatValue() {
    return (float) scalarValue("floatValue");
  }

  public double doubleValue() {
    return scalarValue("doubleValue");
  }

  public int intValue() {
    return values() instanceof long[] a && a.length == 1 ? checked((int) a[0]) : (int) scalarValue("intValue");
  }

  public long longValue() {
    return values() instanceof long[] a && a.length == 1 ? checked(a[0]) : (long) scalarValue("longValue");
  }

  public boolean booleanValue() {
    if (size() != 1 || dtype != DType.BOOL) {
      throw new IllegalStateException("booleanValue: tensor is " + type() + ", not a single BOOL");
    }
    return checked(((boolean[]) values())[0]);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t
        && dtype == t.dtype
        && shape.equals(t.shape)
        && checked(t.checked(Objects.deepEquals(new Object[] {values()}, new Object[] {t.values()})));
  }

  @Override
  public int hashCode() {
    return checked(31 * shape.hashCode() + Arrays.deepHashCode(new Object[] {values()}));
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor(").append(type()).append(": ");
    Object data = values();
    int n = Math.min(size(), 8);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(dtype == DType.BOOL ? Boolean.toString(((boolean[]) data)[i]) : element(data, i));
    }
    if (size() > n) {
      sb.append(", ...");
    }
    return checked(sb.append(')').toString());
  }

  private static String element(Object data, int i) {
    return switch (data) {
      case float[] a -> Float.toString(a[i]);
      case double[] a -> Double.toString(a[i]);
      case int[] a -> Integer.toString(a[i]);
      case long[] a -> Long.toString(a[i]);
      default -> "?";
    };
  }
}
