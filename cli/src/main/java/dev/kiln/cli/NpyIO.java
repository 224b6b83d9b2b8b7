package dev.kiln.cli;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format (versions 1.0 to 3.0) for f32, f64, i32, i64 and bool arrays: little-endian,
 * C order, as {@code np.save} writes them by default. Anything else is refused with a message that
 * says what the file holds.
 */
final class NpyIO {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private NpyIO() {}

  static Tensor read(Path file) throws IOException {
    return decode(Files.readAllBytes(file), file.toString());
  }

  static Tensor read(java.io.InputStream in, long size, String name) throws IOException {
    return decode(in.readAllBytes(), name);
  }

  static void write(Path file, Tensor t) throws IOException {
    Files.write(file, encode(t));
  }

  static Tensor decode(byte[] bytes, String name) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
      throw new IllegalArgumentException(name + ": not a .npy file (no \\x93NUMPY magic)");
    }
    int major = bytes[6];
    int headerLength;
    int headerStart;
    if (major == 1) {
      headerLength = Short.toUnsignedInt(buf.getShort(8));
      headerStart = 10;
    } else if ((major == 2 || major == 3) && bytes.length >= 12) {
      headerLength = buf.getInt(8);
      headerStart = 12;
    } else {
      throw new IllegalArgumentException(name + ": unsupported .npy version " + major + "." + bytes[7]);
    }
    if (headerLength < 0 || headerStart + headerLength > bytes.length) {
      throw new IllegalArgumentException(name + ": truncated .npy header");
    }
    String header = new String(bytes, headerStart, headerLength,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    String descr = find(DESCR, header, name, "descr");
    if (find(FORTRAN, header, name, "fortran_order").equals("True")) {
      throw new IllegalArgumentException(name + ": Fortran-order array; save it in C order "
          + "(np.save(f, np.ascontiguousarray(a)))");
    }
    DType dtype = switch (descr) {
      case "<f4" -> DType.FLOAT32;
      case "<f8" -> DType.FLOAT64;
      case "<i4" -> DType.INT32;
      case "<i8" -> DType.INT64;
      case "|b1", "<b1" -> DType.BOOL;
      default -> throw new IllegalArgumentException(name + ": unsupported dtype '" + descr
          + "' (kiln reads little-endian <f4, <f8, <i4, <i8 and |b1)");
    };
    Shape shape = parseShape(find(SHAPE, header, name, "shape"), name);
    long n = shape.numElements();
    int dataStart = headerStart + headerLength;
    if (n * dtype.byteSize() != bytes.length - dataStart) {
      throw new IllegalArgumentException(name + ": " + descr + " array of shape " + shape + " needs "
          + n * dtype.byteSize() + " bytes of data, the file has " + (bytes.length - dataStart));
    }
    buf.position(dataStart);
    Object data = HostBuffers.allocate(dtype, (int) n);
    switch (data) {
      case float[] a -> buf.asFloatBuffer().get(a);
      case double[] a -> buf.asDoubleBuffer().get(a);
      case int[] a -> buf.asIntBuffer().get(a);
      case long[] a -> buf.asLongBuffer().get(a);
      case boolean[] a -> {
        for (int i = 0; i < a.length; i++) {
          a[i] = bytes[dataStart + i] != 0;
        }
      }
      default -> throw new AssertionError(data);
    }
    return HostBuffers.adopt(dtype, shape, data);
  }

  private static String find(Pattern p, String header, String name, String key) {
    Matcher m = p.matcher(header);
    if (!m.find()) {
      throw new IllegalArgumentException(name + ": .npy header has no valid '" + key + "': " + header.strip());
    }
    return m.group(1);
  }

  private static Shape parseShape(String dims, String name) {
    String[] parts = dims.strip().isEmpty() ? new String[0] : dims.split(",");
    int count = parts.length > 0 && parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
    int[] d = new int[count];
    long n = 1;
    for (int i = 0; i < count; i++) {
      try {
        d[i] = Integer.parseInt(parts[i].strip().replace("L", ""));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + ": bad shape (" + dims + ") in .npy header");
      }
      n *= Math.max(d[i], 1);
      if (d[i] < 0 || n > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException(name + ": bad shape (" + dims + ") in .npy header");
      }
    }
    return Shape.of(d);
  }

  static byte[] encode(Tensor t) {
    String descr = switch (t.dtype()) {
      case FLOAT32 -> "<f4";
      case FLOAT64 -> "<f8";
      case INT32 -> "<i4";
      case INT64 -> "<i8";
      case BOOL -> "|b1";
    };
    int[] dims = t.shape().dims();
    StringBuilder shape = new StringBuilder("(");
    for (int i = 0; i < dims.length; i++) {
      shape.append(i > 0 ? ", " : "").append(dims[i]);
    }
    shape.append(dims.length == 1 ? ",)" : ")");
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // As NumPy does: pad with spaces so that the data starts at a multiple of 64, end with '\n'.
    int total = 10 + dict.length() + 1;
    int padded = (total + 63) / 64 * 64;
    String header = dict + " ".repeat(padded - total) + "\n";
    int n = t.size();
    ByteBuffer buf = ByteBuffer.allocate(10 + header.length() + n * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    buf.put(header.getBytes(StandardCharsets.ISO_8859_1));
    switch (HostBuffers.array(t)) {
      case float[] a -> buf.asFloatBuffer().put(a);
      case double[] a -> buf.asDoubleBuffer().put(a);
      case int[] a -> buf.asIntBuffer().put(a);
      case long[] a -> buf.asLongBuffer().put(a);
      case boolean[] a -> {
        for (boolean b : a) {
          buf.put(b ? (byte) 1 : (byte) 0);
        }
      }
      default -> throw new AssertionError(t);
    }
    return buf.array();
  }
}
