package dev.kiln.train;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Decodes the variables of a checkpoint's payload (docs/checkpoint-format.md) from a stream, checking
 * each field against the bytes the payload has left before allocating anything for it.
 */
final class CheckpointPayload {
  /** The most elements one tensor holds: one Java array. */
  private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
  /** The smallest entry: name length, a one-byte name, dtype, rank 0 and one bool value. */
  private static final int MIN_ENTRY_BYTES = 6;
  private static final int CHUNK_BYTES = 1 << 16;

  private final DataInputStream in;
  private final String where;
  private long remaining;

  private CheckpointPayload(DataInputStream in, long payloadBytes, String where) {
    this.in = in;
    this.remaining = payloadBytes;
    this.where = where;
  }

  /** The variables of a payload of {@code payloadBytes} bytes; {@code where} names the checkpoint in messages. */
  static Map<String, Tensor> read(DataInputStream in, long payloadBytes, String where) throws IOException {
    return new CheckpointPayload(in, payloadBytes, where).entries(payloadBytes);
  }

  private Map<String, Tensor> entries(long payloadBytes) throws IOException {
    long count = Integer.toUnsignedLong(in.readInt());
    take(4);
    if (count > remaining / MIN_ENTRY_BYTES) {
      throw malformed("it declares " + count + " variables, more than its " + payloadBytes + "-byte payload holds");
    }
    Map<String, Tensor> values = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      String name = name(i);
      int code = in.readUnsignedByte();
      int rank = in.readUnsignedByte();
      take(2);
      if (code >= CheckpointFormat.CODES.size()) {
        throw malformed("variable '" + name + "' has unknown dtype code " + code);
      }
      DType dtype = CheckpointFormat.CODES.get(code);
      int[] dims = dims(name, rank);
      String shape = shapeText(dims);
      long n = elements(dims);
      if (n < 0) {
        throw malformed("variable '" + name + "' of shape " + shape + " has more elements than a tensor can hold");
      }
      if (n * dtype.byteSize() > remaining) {
        throw malformed("variable '" + name + "' of shape " + shape + " runs past the end of the payload");
      }
      if (values.containsKey(name)) {
        throw malformed("variable '" + name + "' appears twice");
      }
      values.put(name, tensor(name, dtype, (int) n, dims, shape));
    }
    if (remaining > 0) {
      throw malformed(remaining + " bytes after the last variable");
    }
    return values;
  }

  private String name(int entry) throws IOException {
    int length = in.readUnsignedShort();
    take(2);
    if (length > remaining) {
      throw malformed("the name of entry " + entry + " runs past the end of the payload");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    take(length);
    if (length == 0) {
      throw malformed("entry " + entry + " has an empty name");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw malformed("name of entry " + entry + " is not UTF-8");
    }
  }

  private int[] dims(String name, int rank) throws IOException {
    if (4L * rank > remaining) {
      throw malformed("variable '" + name + "' has rank " + rank + "; its dimensions run past the end of the payload");
    }
    long[] stored = new long[rank];
    for (int d = 0; d < rank; d++) {
      stored[d] = Integer.toUnsignedLong(in.readInt());
    }
    take(4L * rank);
    int[] dims = new int[rank];
    for (int d = 0; d < rank; d++) {
      if (stored[d] > Integer.MAX_VALUE) {
        StringJoiner shape = new StringJoiner(",", "[", "]");
        for (long s : stored) {
          shape.add(Long.toString(s));
        }
        throw malformed("variable '" + name + "' has dimension " + stored[d] + " in shape " + shape + ", more than "
            + Integer.MAX_VALUE);
      }
      dims[d] = (int) stored[d];
    }
    return dims;
  }

  /** The product of the dimensions, or -1 when it exceeds what a tensor holds (however far). */
  private static long elements(int[] dims) {
    long n = 1;
    for (int d : dims) {
      if (d == 0) {
        return 0;
      }
    }
    for (int d : dims) {
      if (n > MAX_ELEMENTS / d) {
        return -1;
      }
      n *= d;
    }
    return n;
  }

  /** Reads {@code n} big-endian values a chunk at a time into the tensor's own array. */
  private Tensor tensor(String name, DType dtype, int n, int[] dims, String shape) throws IOException {
    Object array = HostBuffers.allocate(dtype, n);
    int size = dtype.byteSize();
    byte[] chunk = new byte[(int) Math.min((long) n * size, CHUNK_BYTES)];
    ByteBuffer buf = ByteBuffer.wrap(chunk);
    for (int done = 0; done < n; ) {
      int k = Math.min(n - done, CHUNK_BYTES / size);
      in.readFully(chunk, 0, k * size);
      if (dtype == DType.BOOL) {
        for (int j = 0; j < k; j++) {
          if ((chunk[j] & ~1) != 0) {
            throw malformed("bool variable '" + name + "' holds " + Byte.toUnsignedInt(chunk[j]) + " at index "
                + (done + j) + " (a bool is 0 or 1)");
          }
        }
      }
      HostBuffers.decode(dtype, buf, array, done, k);
      done += k;
    }
    take((long) n * size);
    // the array is this tensor's alone from here on, so it is adopted rather than copied
    try {
      return HostBuffers.adopt(dtype, Shape.of(dims), array);
    } catch (IllegalArgumentException e) {
      throw malformed("variable '" + name + "' of shape " + shape + ": " + e.getMessage());
    }
  }

  private void take(long bytes) {
    remaining -= bytes;
  }

  private CheckpointException malformed(String what) {
    return new CheckpointException(where + " is malformed: " + what);
  }

  private static String shapeText(int[] dims) {
    StringJoiner s = new StringJoiner(",", "[", "]");
    for (int d : dims) {
      s.add(Integer.toString(d));
    }
    return s.toString();
  }
}
