package dev.kiln.cli;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
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
  /** NumPy writes headers of a few hundred bytes; this bounds what a lying length field can cost. */
  static final int MAX_HEADER_BYTES = 1 << 20;
  private static final int CHUNK_BYTES = 1 << 16;
  private static final int SHOWN_HEADER_CHARS = 200;

  private NpyIO() {}

  /** Reads a .npy file, checking its header against the file's size before allocating for the values. */
  static Tensor read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = Files.isRegularFile(file) ? ch.size() : -1;
      return read(new BufferedInputStream(Channels.newInputStream(ch), CHUNK_BYTES), size, file.toString());
    }
  }

  static void write(Path file, Tensor t) throws IOException {
    Files.write(file, encode(t));
  }

  /** As {@link #read(InputStream, long, String)} for a file already in memory. */
  static Tensor decode(byte[] bytes, String name) {
    try {
      return read(new ByteArrayInputStream(bytes), bytes.length, name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a .npy file from {@code in}; {@code size} is the file's length when known (a regular file),
   * else -1, and {@code name} names it in messages. Without a size, bytes are buffered as they arrive
   * and the values allocated only once they all have, so a header that claims more than the stream
   * holds fails at its end.
   */
  static Tensor read(InputStream in, long size, String name) throws IOException {
    byte[] prefix = in.readNBytes(10);
    if (prefix.length < MAGIC.length || !Arrays.equals(prefix, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw fail(name, "not a .npy file (no \\x93NUMPY magic)");
    }
    if (prefix.length < 10) {
      throw fail(name, "truncated .npy header: the file ends after " + prefix.length + " bytes");
    }
    int major = Byte.toUnsignedInt(prefix[6]);
    long headerLength;
    int headerStart;
    if (major == 1) {
      headerLength = Short.toUnsignedInt(ByteBuffer.wrap(prefix, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort());
      headerStart = 10;
    } else if (major == 2 || major == 3) {
      byte[] length = Arrays.copyOfRange(prefix, 8, 12);
      int more = in.readNBytes(length, 2, 2);
      if (more < 2) {
        throw fail(name, "truncated .npy header: the file ends after " + (10 + more) + " bytes");
      }
      headerLength = Integer.toUnsignedLong(ByteBuffer.wrap(length).order(ByteOrder.LITTLE_ENDIAN).getInt());
      headerStart = 12;
    } else {
      throw fail(name, "unsupported .npy version " + major + "." + Byte.toUnsignedInt(prefix[7]));
    }
    if (size >= 0 && headerLength > size - headerStart) {
      throw truncatedHeader(name, headerLength, size - headerStart);
    }
    if (headerLength > MAX_HEADER_BYTES) {
      throw fail(name, ".npy header of " + headerLength + " bytes is longer than the " + MAX_HEADER_BYTES
          + " bytes kiln reads");
    }
    byte[] headerBytes = in.readNBytes((int) headerLength);
    if (headerBytes.length < headerLength) {
      throw truncatedHeader(name, headerLength, headerBytes.length);
    }
    String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    String descr = find(DESCR, header, name, "descr");
    if (find(FORTRAN, header, name, "fortran_order").equals("True")) {
      throw fail(name, "Fortran-order array; save it in C order (np.save(f, np.ascontiguousarray(a)))");
    }
    DType dtype = switch (descr) {
      case "<f4" -> DType.FLOAT32;
      case "<f8" -> DType.FLOAT64;
      case "<i4" -> DType.INT32;
      case "<i8" -> DType.INT64;
      case "|b1", "<b1" -> DType.BOOL;
      case "<f2" -> DType.FLOAT16;
      case "|i1", "<i1" -> DType.INT8;
      case "|u1", "<u1" -> DType.UINT8;
      case "<i2" -> DType.INT16;
      default -> throw fail(name, "unsupported dtype '" + oneLine(descr)
          + "' (kiln reads little-endian <f4, <f8, <i4, <i8, |b1, <f2, |i1, |u1 and <i2)");
    };
    Shape shape = parseShape(find(SHAPE, header, name, "shape"), name);
    int n = (int) shape.numElements();
    long dataBytes = (long) n * dtype.byteSize();
    String needs = descr + " array of shape " + shape + " needs " + dataBytes + " bytes of data, the file has ";
    InputStream data = in;
    if (size >= 0) {
      long has = size - headerStart - headerLength;
      if (dataBytes != has) {
        throw fail(name, needs + has);
      }
    } else {
      data = arrived(in, dataBytes, name, needs);
    }
    Object values = HostBuffers.allocate(dtype, n);
    long got = fill(data, dtype, values, n, dtype.byteSize());
    if (got != dataBytes) {
      throw fail(name, needs + got); // the file shrank while it was read
    }
    return HostBuffers.adopt(dtype, shape, values);
  }

  /** All {@code dataBytes} bytes of a stream of unknown length, buffered a chunk at a time as they arrive. */
  private static InputStream arrived(InputStream in, long dataBytes, String name, String needs) throws IOException {
    List<InputStream> chunks = new ArrayList<>();
    long got = 0;
    while (got < dataBytes) {
      byte[] chunk = in.readNBytes((int) Math.min(CHUNK_BYTES, dataBytes - got));
      got += chunk.length;
      chunks.add(new ByteArrayInputStream(chunk));
      if (chunk.length < CHUNK_BYTES && got < dataBytes) {
        throw fail(name, needs + got);
      }
    }
    if (in.read() != -1) {
      throw fail(name, needs + "more");
    }
    return new SequenceInputStream(Collections.enumeration(chunks));
  }

  /** Reads little-endian values into {@code array} a chunk at a time; returns the bytes read. */
  private static long fill(InputStream in, DType dtype, Object array, int n, int size) throws IOException {
    byte[] chunk = new byte[(int) Math.min((long) n * size, CHUNK_BYTES)];
    ByteBuffer buf = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
    long total = 0;
    for (int done = 0; done < n; ) {
      int k = Math.min(n - done, CHUNK_BYTES / size);
      int got = in.readNBytes(chunk, 0, k * size);
      total += got;
      if (got < k * size) {
        return total;
      }
      HostBuffers.decode(dtype, buf, array, done, k);
      done += k;
    }
    return total;
  }

  private static NpyFormatException truncatedHeader(String name, long declared, long has) {
    return fail(name, "truncated .npy header: it declares " + declared + " bytes, the file has " + has
        + " after the header length");
  }

  private static NpyFormatException fail(String name, String what) {
    return new NpyFormatException(name + ": " + what);
  }

  /** Header text as one line of bounded length, for messages. */
  private static String oneLine(String text) {
    String s = text.strip().replaceAll("\\p{Cntrl}+", " ");
    return s.length() <= SHOWN_HEADER_CHARS ? s : s.substring(0, SHOWN_HEADER_CHARS) + "...";
  }

  private static String find(Pattern p, String header, String name, String key) {
    Matcher m = p.matcher(header);
    if (!m.find()) {
      throw fail(name, ".npy header has no valid '" + key + "': " + oneLine(header));
    }
    return m.group(1);
  }

  private static Shape parseShape(String dims, String name) {
    String[] parts = dims.strip().isEmpty() ? new String[0] : dims.split(",", -1);
    int count = parts.length > 0 && parts[parts.length - 1].isBlank() ? parts.length - 1 : parts.length;
    int[] d = new int[count];
    long n = 1;
    for (int i = 0; i < count; i++) {
      try {
        d[i] = Integer.parseInt(parts[i].strip().replace("L", ""));
      } catch (NumberFormatException e) {
        throw fail(name, "bad shape (" + oneLine(dims) + ") in .npy header");
      }
      n *= Math.max(d[i], 1);
      if (d[i] < 0 || n > Integer.MAX_VALUE - 8) {
        throw fail(name, "bad shape (" + oneLine(dims) + ") in .npy header");
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
      case FLOAT16 -> "<f2";
      case INT8 -> "|i1";
      case UINT8 -> "|u1";
      case INT16 -> "<i2";
      case BFLOAT16 -> throw new IllegalArgumentException("a bf16 tensor has no .npy dtype: cast it to f32 first");
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
    if (t.dtype().isNarrow()) {
      HostBuffers.encode(t.dtype(), HostBuffers.array(t), 0, n, buf);
      return buf.array();
    }
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
