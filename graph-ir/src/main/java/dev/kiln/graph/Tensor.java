package dev.kiln.graph;

import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable host value: a dtype, a fully defined shape and row-major data held on the Java heap
 * (so it never needs closing). Storage is a {@code float[]}, {@code double[]}, {@code int[]},
 * {@code long[]} or {@code boolean[]} according to the dtype; a narrow dtype is held in the array of its
 * {@link DType#computeType()} (float16 and bfloat16 values as floats, int8, uint8 and int16 as ints).
 * Factories copy the caller's array.
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

  /** A FLOAT16 tensor of {@code values} each rounded to the nearest float16 (ties to even). */
  public static Tensor ofFloat16(float[] values, int... dims) {
    return narrowFloats(DType.FLOAT16, values, dims);
  }

  /** A BFLOAT16 tensor of {@code values} each rounded to the nearest bfloat16 (ties to even). */
  public static Tensor ofBfloat16(float[] values, int... dims) {
    return narrowFloats(DType.BFLOAT16, values, dims);
  }

  /** A FLOAT16 tensor of IEEE binary16 bit patterns. */
  public static Tensor ofFloat16Bits(short[] bits, int... dims) {
    Objects.requireNonNull(bits, "Tensor.ofFloat16Bits: bits is null");
    float[] v = new float[bits.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Narrowing.fromFloat16Bits(bits[i]);
    }
    return create(DType.FLOAT16, v, v.length, dims);
  }

  /** A BFLOAT16 tensor of bfloat16 bit patterns (a float's upper 16 bits). */
  public static Tensor ofBfloat16Bits(short[] bits, int... dims) {
    Objects.requireNonNull(bits, "Tensor.ofBfloat16Bits: bits is null");
    float[] v = new float[bits.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Narrowing.fromBfloat16Bits(bits[i]);
    }
    return create(DType.BFLOAT16, v, v.length, dims);
  }

  private static Tensor narrowFloats(DType d, float[] values, int[] dims) {
    float[] v = Objects.requireNonNull(values, () -> "Tensor.of" + (d == DType.FLOAT16 ? "Float16" : "Bfloat16")
        + ": values is null").clone();
    Narrowing.narrowInPlace(d, v, 0, v.length);
    return create(d, v, v.length, dims);
  }

  /** An INT8 tensor. */
  public static Tensor ofInt8(byte[] data, int... dims) {
    Objects.requireNonNull(data, "Tensor.ofInt8: data is null");
    int[] v = new int[data.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = data[i];
    }
    return create(DType.INT8, v, v.length, dims);
  }

  /** A UINT8 tensor; each byte is read as unsigned (0..255). */
  public static Tensor ofUint8(byte[] data, int... dims) {
    Objects.requireNonNull(data, "Tensor.ofUint8: data is null");
    int[] v = new int[data.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = data[i] & 0xFF;
    }
    return create(DType.UINT8, v, v.length, dims);
  }

  /** An INT16 tensor. */
  public static Tensor ofInt16(short[] data, int... dims) {
    Objects.requireNonNull(data, "Tensor.ofInt16: data is null");
    int[] v = new int[data.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = data[i];
    }
    return create(DType.INT16, v, v.length, dims);
  }

  /**
   * A tensor of narrow integer type {@code dtype} (INT8, UINT8 or INT16) from ints, each of which must
   * be in the type's range.
   *
   * @throws IllegalArgumentException naming the first value out of range
   */
  public static Tensor ofNarrowInts(DType dtype, int[] values, int... dims) {
    Objects.requireNonNull(dtype, "Tensor.ofNarrowInts: dtype is null");
    Objects.requireNonNull(values, "Tensor.ofNarrowInts: values is null");
    if (dtype != DType.INT8 && dtype != DType.UINT8 && dtype != DType.INT16) {
      throw new IllegalArgumentException("Tensor.ofNarrowInts: dtype must be i8, u8 or i16, got " + dtype.shortName());
    }
    for (int i = 0; i < values.length; i++) {
      if (!Narrowing.inRange(dtype, values[i])) {
        throw new IllegalArgumentException("Tensor.ofNarrowInts: value " + values[i] + " at index " + i
            + " is out of range for " + dtype.shortName());
      }
    }
    return create(dtype, values.clone(), values.length, dims);
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
    return switch (dtype.computeType()) {
      case FLOAT32 -> new float[n];
      case FLOAT64 -> new double[n];
      case INT32 -> new int[n];
      case INT64 -> new long[n];
      case BOOL -> new boolean[n];
      default -> throw new AssertionError(dtype);
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
    boolean ok = switch (dtype.computeType()) {
      case FLOAT32 -> data instanceof float[] a && a.length == n;
      case FLOAT64 -> data instanceof double[] a && a.length == n;
      case INT32 -> data instanceof int[] a && a.length == n;
      case INT64 -> data instanceof long[] a && a.length == n;
      case BOOL -> data instanceof boolean[] a && a.length == n;
      default -> throw new AssertionError(dtype);
    };
    if (!ok) {
      throw new IllegalArgumentException("storage " + data.getClass().getSimpleName() + " does not match "
          + new TensorType(dtype, shape));
    }
    int bad = dtype.isNarrow() ? Narrowing.firstOutside(dtype, data, n) : -1;
    if (bad >= 0) {
      throw new IllegalArgumentException(what + ": element " + bad + " (" + java.lang.reflect.Array.get(data, bad)
          + ") is not a " + dtype.shortName() + " value");
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

  /** The values of a FLOAT32, FLOAT16 or BFLOAT16 tensor (the 16-bit floats widened exactly). */
  public float[] toFloatArray() {
    return checked(((float[]) requireStorage(DType.FLOAT32, "toFloatArray")).clone());
  }

  /** The IEEE binary16 bit patterns of a FLOAT16 tensor. */
  public short[] toFloat16Bits() {
    float[] v = (float[]) require(DType.FLOAT16, "toFloat16Bits");
    short[] r = new short[v.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = Narrowing.float16Bits(v[i]);
    }
    return checked(r);
  }

  /** The bfloat16 bit patterns of a BFLOAT16 tensor. */
  public short[] toBfloat16Bits() {
    float[] v = (float[]) require(DType.BFLOAT16, "toBfloat16Bits");
    short[] r = new short[v.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = Narrowing.bfloat16Bits(v[i]);
    }
    return checked(r);
  }

  /** The values of an INT8 or UINT8 tensor as bytes (a uint8 above 127 as its two's complement byte). */
  public byte[] toByteArray() {
    if (dtype != DType.INT8 && dtype != DType.UINT8) {
      throw new IllegalStateException("toByteArray: tensor is " + dtype + ", not INT8 or UINT8");
    }
    int[] v = (int[]) values();
    byte[] r = new byte[v.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = (byte) v[i];
    }
    return checked(r);
  }

  /** The values of an INT16 tensor. */
  public short[] toShortArray() {
    int[] v = (int[]) require(DType.INT16, "toShortArray");
    short[] r = new short[v.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = (short) v[i];
    }
    return checked(r);
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

  /** The values of an INT32, INT8, UINT8 or INT16 tensor (the narrow ones widened). */
  public int[] toIntArray() {
    return checked(((int[]) requireStorage(DType.INT32, "toIntArray")).clone());
  }

  public long[] toLongArray() {
    return checked(((long[]) require(DType.INT64, "toLongArray")).clone());
  }

  public boolean[] toBooleanArray() {
    return checked(((boolean[]) require(DType.BOOL, "toBooleanArray")).clone());
  }

  /** The storage of a tensor of {@code want} or of a narrow type computed as {@code want}. */
  private Object requireStorage(DType want, String what) {
    if (dtype.computeType() != want) {
      String narrow = java.util.Arrays.stream(DType.values()).filter(d -> d.isNarrow() && d.computeType() == want)
          .map(DType::name).collect(java.util.stream.Collectors.joining(", "));
      throw new IllegalStateException(what + ": tensor is " + dtype + ", not " + want + (narrow.isEmpty() ? "" : " (or " + narrow + ")"));
    }
    return values();
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
