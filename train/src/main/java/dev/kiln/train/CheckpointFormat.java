package dev.kiln.train;

import dev.kiln.graph.DType;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Encodes and decodes the checkpoint file format, version 1 (docs/checkpoint-format.md). All integers
 * and values are big-endian.
 * <pre>
 *   header (24 bytes): magic "KILNCKPT" | u32 version | u64 payload length | u32 CRC-32 of the payload
 *   payload: u32 count, then per variable:
 *     u16 name length | name (UTF-8) | u8 dtype code | u8 rank | rank x u32 dims | values
 * </pre>
 */
final class CheckpointFormat {
  static final byte[] MAGIC = "KILNCKPT".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_BYTES = 24;
  /** Dtype codes in the file; their order is part of the format. */
  private static final List<DType> CODES =
      List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64, DType.BOOL);

  private CheckpointFormat() {}

  static byte[] encode(Map<String, Tensor> values) {
    long size = 4;
    for (Map.Entry<String, Tensor> e : values.entrySet()) {
      Tensor t = e.getValue();
      size += 2 + utf8(e.getKey()).length + 2 + 4L * t.shape().rank() + (long) t.size() * t.dtype().byteSize();
    }
    if (HEADER_BYTES + size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("checkpoint of " + size + " bytes is too large for one file (2 GiB)");
    }
    ByteBuffer payload = ByteBuffer.allocate((int) size);
    payload.putInt(values.size());
    for (Map.Entry<String, Tensor> e : values.entrySet()) {
      byte[] name = utf8(e.getKey());
      if (name.length > 0xffff) {
        throw new IllegalArgumentException("variable name is too long for a checkpoint: " + e.getKey());
      }
      Tensor t = e.getValue();
      payload.putShort((short) name.length).put(name);
      payload.put((byte) CODES.indexOf(t.dtype())).put((byte) t.shape().rank());
      for (int d : t.shape().dims()) {
        payload.putInt(d);
      }
      putValues(payload, t);
    }
    CRC32 crc = new CRC32();
    crc.update(payload.array());
    ByteBuffer file = ByteBuffer.allocate(HEADER_BYTES + (int) size);
    file.put(MAGIC).putInt(VERSION).putLong(size).putInt((int) crc.getValue()).put(payload.array());
    return file.array();
  }

  /** Checks the header and checksum, then decodes every variable; {@code source} names the file in messages. */
  static Map<String, Tensor> decode(byte[] bytes, String source) throws CheckpointException {
    String where = "checkpoint '" + source + "'";
    if (bytes.length < MAGIC.length || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new CheckpointException(where + " is not a Kiln checkpoint (bad magic number)");
    }
    if (bytes.length < HEADER_BYTES) {
      throw new CheckpointException(where + " is truncated: " + bytes.length + " bytes, shorter than the "
          + HEADER_BYTES + "-byte header");
    }
    ByteBuffer header = ByteBuffer.wrap(bytes, MAGIC.length, HEADER_BYTES - MAGIC.length);
    int version = header.getInt();
    if (version != VERSION) {
      throw new CheckpointException(where + " has format version " + version + "; this Kiln reads version " + VERSION);
    }
    long declared = header.getLong();
    int storedCrc = header.getInt();
    long actual = bytes.length - HEADER_BYTES;
    if (declared < 0) {
      throw new CheckpointException(where + " is corrupted: the header declares a payload of "
          + Long.toUnsignedString(declared) + " bytes");
    }
    if (actual < declared) {
      throw new CheckpointException(where + " is truncated: the header declares " + declared
          + " payload bytes, the file holds " + actual);
    }
    if (actual > declared) {
      throw new CheckpointException(where + " is corrupted: " + (actual - declared)
          + " unexpected bytes after the " + declared + "-byte payload");
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, HEADER_BYTES, (int) actual);
    if ((int) crc.getValue() != storedCrc) {
      throw new CheckpointException(String.format(
          "%s is corrupted: checksum mismatch (stored CRC-32 %08x, computed %08x)", where, storedCrc,
          (int) crc.getValue()));
    }
    try {
      return decodePayload(ByteBuffer.wrap(bytes, HEADER_BYTES, (int) actual), where);
    } catch (BufferUnderflowException e) {
      throw new CheckpointException(where + " is malformed: an entry runs past the end of the payload");
    }
  }

  private static Map<String, Tensor> decodePayload(ByteBuffer in, String where) throws CheckpointException {
    int count = in.getInt();
    if (count < 0) {
      throw new CheckpointException(where + " is malformed: negative variable count " + count);
    }
    Map<String, Tensor> values = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      byte[] nameBytes = new byte[Short.toUnsignedInt(in.getShort())];
      in.get(nameBytes);
      String name;
      try {
        name = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(nameBytes)).toString();
      } catch (CharacterCodingException e) {
        throw new CheckpointException(where + " is malformed: name of entry " + i + " is not UTF-8");
      }
      int code = Byte.toUnsignedInt(in.get());
      if (code >= CODES.size()) {
        throw new CheckpointException(where + " is malformed: variable '" + name + "' has unknown dtype code " + code);
      }
      DType dtype = CODES.get(code);
      int[] dims = new int[Byte.toUnsignedInt(in.get())];
      long n = 1;
      for (int d = 0; d < dims.length; d++) {
        dims[d] = in.getInt();
        if (dims[d] < 0) {
          throw new CheckpointException(where + " is malformed: variable '" + name + "' has a negative dimension");
        }
        n *= dims[d];
      }
      if (n * dtype.byteSize() > in.remaining()) {
        throw new CheckpointException(where + " is malformed: variable '" + name + "' of shape " + Shape.of(dims)
            + " runs past the end of the payload");
      }
      if (values.put(name, getValues(in, dtype, (int) n, dims)) != null) {
        throw new CheckpointException(where + " is malformed: variable '" + name + "' appears twice");
      }
    }
    if (in.hasRemaining()) {
      throw new CheckpointException(where + " is malformed: " + in.remaining() + " bytes after the last variable");
    }
    return values;
  }

  private static void putValues(ByteBuffer out, Tensor t) {
    switch (t.dtype()) {
      case FLOAT32 -> out.asFloatBuffer().put(t.toFloatArray());
      case FLOAT64 -> out.asDoubleBuffer().put(t.toDoubleArray());
      case INT32 -> out.asIntBuffer().put(t.toIntArray());
      case INT64 -> out.asLongBuffer().put(t.toLongArray());
      case BOOL -> {
        for (boolean b : t.toBooleanArray()) {
          out.put((byte) (b ? 1 : 0));
        }
        return;
      }
    }
    out.position(out.position() + t.size() * t.dtype().byteSize());
  }

  private static Tensor getValues(ByteBuffer in, DType dtype, int n, int[] dims) {
    Tensor t = switch (dtype) {
      case FLOAT32 -> {
        float[] a = new float[n];
        in.asFloatBuffer().get(a);
        yield Tensor.of(a, dims);
      }
      case FLOAT64 -> {
        double[] a = new double[n];
        in.asDoubleBuffer().get(a);
        yield Tensor.of(a, dims);
      }
      case INT32 -> {
        int[] a = new int[n];
        in.asIntBuffer().get(a);
        yield Tensor.of(a, dims);
      }
      case INT64 -> {
        long[] a = new long[n];
        in.asLongBuffer().get(a);
        yield Tensor.of(a, dims);
      }
      case BOOL -> {
        boolean[] a = new boolean[n];
        for (int i = 0; i < n; i++) {
          a[i] = in.get() != 0;
        }
        yield Tensor.of(a, dims);
      }
    };
    if (dtype != DType.BOOL) {
      in.position(in.position() + n * dtype.byteSize());
    }
    return t;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
