package dev.kiln.train;

import com.google.common.io.ByteStreams;
import com.google.common.io.CountingInputStream;
import dev.kiln.graph.DType;
import dev.kiln.graph.Tensor;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;

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
  /** Version 1 keeps a whole checkpoint within one Java array, as {@link #encode} builds it. */
  static final long MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 8 - HEADER_BYTES;
  /** Dtype codes in the file; their order is part of the format. */
  static final List<DType> CODES =
      List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64, DType.BOOL, DType.FLOAT16, DType.BFLOAT16,
          DType.INT8, DType.UINT8, DType.INT16);

  private CheckpointFormat() {}

  static byte[] encode(Map<String, Tensor> values) {
    long size = 4;
    for (Map.Entry<String, Tensor> e : values.entrySet()) {
      Tensor t = e.getValue();
      size += 2 + utf8(e.getKey()).length + 2 + 4L * t.shape().rank() + (long) t.size() * t.dtype().byteSize();
    }
    if (size > MAX_PAYLOAD_BYTES) {
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

  /** As {@link #read} for a file already in memory (tests). */
  static Map<String, Tensor> decode(byte[] bytes, String source) throws CheckpointException {
    try {
      return read(new ByteArrayInputStream(bytes), bytes.length, source);
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a checkpoint from {@code in}: the header, then every variable, checking the checksum over the
   * whole payload. {@code size} is the file's length when it is known (a regular file), else -1; either
   * way nothing is allocated for bytes that have not been shown to exist. {@code source} names the file.
   */
  static Map<String, Tensor> read(InputStream in, long size, String source) throws IOException {
    String where = "checkpoint '" + source + "'";
    byte[] head = in.readNBytes(HEADER_BYTES);
    if (head.length < MAGIC.length || !Arrays.equals(head, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new CheckpointException(where + " is not a Kiln checkpoint (bad magic number)");
    }
    if (head.length < HEADER_BYTES) {
      throw new CheckpointException(where + " is truncated: " + head.length + " bytes, shorter than the "
          + HEADER_BYTES + "-byte header");
    }
    ByteBuffer header = ByteBuffer.wrap(head, MAGIC.length, HEADER_BYTES - MAGIC.length);
    int version = header.getInt();
    if (version != VERSION) {
      throw new CheckpointException(where + " has format version " + Integer.toUnsignedString(version)
          + "; this Kiln reads version " + VERSION);
    }
    long declared = header.getLong();
    int storedCrc = header.getInt();
    if (declared < 0 || declared > MAX_PAYLOAD_BYTES) {
      throw new CheckpointException(where + " is corrupted: the header declares a payload of "
          + Long.toUnsignedString(declared) + " bytes, more than the " + MAX_PAYLOAD_BYTES
          + " a version-" + VERSION + " checkpoint holds");
    }
    InputStream payload;
    if (size >= 0) {
      long actual = size - HEADER_BYTES;
      if (actual < declared) {
        throw truncated(where, declared, actual);
      }
      if (actual > declared) {
        throw new CheckpointException(where + " is corrupted: " + (actual - declared)
            + " unexpected bytes after the " + declared + "-byte payload");
      }
      payload = in;
    } else {
      // A pipe or device: read what arrives (the buffer grows with it) before trusting the header.
      byte[] bytes = in.readNBytes((int) declared);
      if (bytes.length < declared) {
        throw truncated(where, declared, bytes.length);
      }
      if (in.read() != -1) {
        throw new CheckpointException(where + " is corrupted: unexpected bytes after the " + declared
            + "-byte payload");
      }
      payload = new ByteArrayInputStream(bytes);
    }
    CountingInputStream counted = new CountingInputStream(ByteStreams.limit(payload, declared));
    CheckedInputStream checked = new CheckedInputStream(counted, new CRC32());
    Map<String, Tensor> values = null;
    CheckpointException malformed = null;
    try {
      values = CheckpointPayload.read(new DataInputStream(checked), declared, where);
    } catch (CheckpointException e) {
      malformed = e;
    } catch (EOFException e) {
      malformed = new CheckpointException(where + " is malformed: an entry runs past the end of the payload");
    }
    // A damaged payload usually also has a bad structure: report the checksum, the cause, first.
    ByteStreams.exhaust(checked);
    if (counted.getCount() != declared) {
      // the file shrank while it was read
      throw truncated(where, declared, counted.getCount());
    }
    int crc = (int) checked.getChecksum().getValue();
    if (crc != storedCrc) {
      throw new CheckpointException(String.format(
          "%s is corrupted: checksum mismatch (stored CRC-32 %08x, computed %08x)", where, storedCrc, crc));
    }
    if (malformed != null) {
      throw malformed;
    }
    return values;
  }

  private static CheckpointException truncated(String where, long declared, long actual) {
    return new CheckpointException(where + " is truncated: the header declares " + declared
        + " payload bytes, the file holds " + actual);
  }

  private static void putValues(ByteBuffer out, Tensor t) {
    if (t.dtype().isNarrow()) {
      dev.kiln.graph.HostBuffers.encode(t.dtype(), dev.kiln.graph.HostBuffers.array(t), 0, t.size(), out);
      return;
    }
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

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
