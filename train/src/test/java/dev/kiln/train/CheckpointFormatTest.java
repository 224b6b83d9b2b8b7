package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class CheckpointFormatTest {
  private static Map<String, Tensor> sample() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("linear/weight", Tensor.of(new float[] {1.5f, -2f, Float.MIN_VALUE, 3e38f, -0f, 7f}, 2, 3));
    m.put("d", Tensor.of(new double[] {Math.PI}, 1));
    m.put("adam/step", Tensor.scalar(123456789012L));
    m.put("i", Tensor.of(new int[] {-1, 2}, 2));
    m.put("flags", Tensor.of(new boolean[] {true, false, true}, 3));
    m.put("empty", Tensor.zeros(dev.kiln.graph.DType.FLOAT32, dev.kiln.graph.Shape.of(0, 4)));
    m.put("half", Tensor.ofFloat16Bits(new short[] {0x3C00, (short) 0xFC00, 0x0001, 0x7E00}, 4));
    m.put("brain", Tensor.ofBfloat16Bits(new short[] {0x3F80, (short) 0xFF80, 0x0001}, 3));
    m.put("q8", Tensor.ofInt8(new byte[] {-128, 127}, 2));
    m.put("u8", Tensor.ofUint8(new byte[] {-1, 0}, 1, 2));
    m.put("q16", Tensor.ofInt16(new short[] {Short.MIN_VALUE}, 1));
    return m;
  }

  @Test
  void roundTripKeepsNamesOrderDtypesShapesAndValues() throws CheckpointException {
    Map<String, Tensor> in = sample();
    Map<String, Tensor> out = CheckpointFormat.decode(CheckpointFormat.encode(in), "x");
    assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
    assertEquals(in, out);
  }

  @Test
  void narrowValuesTakeTheirOwnWidthAndAppendedCodes() {
    byte[] b = CheckpointFormat.encode(Map.of("h", Tensor.ofFloat16Bits(new short[] {0x3C00, 0x0001}, 2)));
    ByteBuffer in = ByteBuffer.wrap(b, 24, b.length - 24);
    assertEquals(1, in.getInt());
    assertEquals(1, in.getShort());
    assertEquals('h', in.get());
    assertEquals(5, in.get()); // f16: codes 5..9 follow bool's 4, so older files read the same
    assertEquals(1, in.get());
    assertEquals(2, in.getInt());
    assertEquals(0x3C00, in.getShort());
    assertEquals(0x0001, in.getShort());
    assertEquals(0, in.remaining());
  }

  @Test
  void headerLayoutIsAsDocumented() {
    Map<String, Tensor> one = Map.of("w", Tensor.of(new float[] {1f}, 1));
    byte[] b = CheckpointFormat.encode(one);
    ByteBuffer in = ByteBuffer.wrap(b);
    byte[] magic = new byte[8];
    in.get(magic);
    assertEquals("KILNCKPT", new String(magic, StandardCharsets.US_ASCII));
    assertEquals(1, in.getInt());
    // payload: count(4) + name len(2) + "w"(1) + dtype(1) + rank(1) + dim(4) + one float(4)
    assertEquals(17, in.getLong());
    int crc = in.getInt();
    CRC32 c = new CRC32();
    c.update(b, 24, b.length - 24);
    assertEquals((int) c.getValue(), crc);
    assertEquals(1, in.getInt());
    assertEquals(1, in.getShort());
    assertEquals('w', in.get());
    assertEquals(0, in.get()); // f32
    assertEquals(1, in.get()); // rank
    assertEquals(1, in.getInt());
    assertEquals(1f, in.getFloat());
    assertEquals(41, b.length);
  }

  @Test
  void everyCorruptedPayloadByteIsDetected() {
    byte[] good = CheckpointFormat.encode(sample());
    for (int i = CheckpointFormat.HEADER_BYTES; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= 0x10;
      var e = assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(bad, "c.ckpt"));
      assertEquals("checkpoint 'c.ckpt' is corrupted: checksum mismatch", e.getMessage().substring(0, 51));
    }
  }

  @Test
  void truncationIsDetected() {
    byte[] good = CheckpointFormat.encode(sample());
    var e = assertThrows(CheckpointException.class,
        () -> CheckpointFormat.decode(Arrays.copyOf(good, good.length - 1), "c.ckpt"));
    assertEquals("checkpoint 'c.ckpt' is truncated: the header declares " + (good.length - 24)
        + " payload bytes, the file holds " + (good.length - 25), e.getMessage());
    var h = assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(Arrays.copyOf(good, 20), "c.ckpt"));
    assertEquals("checkpoint 'c.ckpt' is truncated: 20 bytes, shorter than the 24-byte header", h.getMessage());
    var empty = assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(new byte[0], "c.ckpt"));
    assertEquals("checkpoint 'c.ckpt' is not a Kiln checkpoint (bad magic number)", empty.getMessage());
  }

  @Test
  void badMagicVersionAndTrailingBytes() {
    byte[] good = CheckpointFormat.encode(sample());
    byte[] magic = good.clone();
    magic[0] = 'X';
    assertEquals("checkpoint 'c' is not a Kiln checkpoint (bad magic number)",
        assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(magic, "c")).getMessage());
    byte[] version = good.clone();
    version[11] = 2;
    assertEquals("checkpoint 'c' has format version 2; this Kiln reads version 1",
        assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(version, "c")).getMessage());
    byte[] huge = good.clone();
    huge[12] = (byte) 0xff;
    assertEquals("checkpoint 'c' is corrupted: the header declares a payload of "
        + Long.toUnsignedString(ByteBuffer.wrap(huge, 12, 8).getLong()) + " bytes, more than the 2147483615 a "
        + "version-1 checkpoint holds",
        assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(huge, "c")).getMessage());
    byte[] longer = Arrays.copyOf(good, good.length + 2);
    assertEquals("checkpoint 'c' is corrupted: 2 unexpected bytes after the " + (good.length - 24) + "-byte payload",
        assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(longer, "c")).getMessage());
  }

  @Test
  void structurallyBadPayloadWithAValidChecksumIsRejected() {
    // a payload claiming one f32 entry of shape [1000] but holding no values
    ByteBuffer p = ByteBuffer.allocate(4 + 2 + 1 + 1 + 1 + 4);
    p.putInt(1).putShort((short) 1).put((byte) 'w').put((byte) 0).put((byte) 1).putInt(1000);
    CRC32 c = new CRC32();
    c.update(p.array());
    ByteBuffer f = ByteBuffer.allocate(24 + p.capacity());
    f.put(CheckpointFormat.MAGIC).putInt(1).putLong(p.capacity()).putInt((int) c.getValue()).put(p.array());
    var e = assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(f.array(), "c"));
    assertEquals("checkpoint 'c' is malformed: variable 'w' of shape [1000] runs past the end of the payload",
        e.getMessage());
    assertArrayEquals(CheckpointFormat.MAGIC, Arrays.copyOf(f.array(), 8));
  }

  /** A checkpoint file around {@code payload}, with a correct length and checksum. */
  private static byte[] file(byte[] payload) {
    CRC32 c = new CRC32();
    c.update(payload);
    return ByteBuffer.allocate(24 + payload.length).put(CheckpointFormat.MAGIC).putInt(1).putLong(payload.length)
        .putInt((int) c.getValue()).put(payload).array();
  }

  /** One entry: name, dtype code, dims (as u32), then {@code values} raw. */
  private static byte[] entry(String name, int code, long[] dims, byte[] values) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(2 + n.length + 2 + 4 * dims.length + values.length);
    b.putShort((short) n.length).put(n).put((byte) code).put((byte) dims.length);
    for (long d : dims) {
      b.putInt((int) d);
    }
    return b.put(values).array();
  }

  private static byte[] payload(int count, byte[]... entries) {
    int size = 4;
    for (byte[] e : entries) {
      size += e.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).putInt(count);
    for (byte[] e : entries) {
      b.put(e);
    }
    return b.array();
  }

  private static String decodeFails(byte[] file) {
    return assertThrows(CheckpointException.class, () -> CheckpointFormat.decode(file, "c")).getMessage();
  }

  @Test
  void shapesWhoseElementCountOverflowsAreMalformed() {
    // 2^64 elements: the product wraps to 0 in a long, so no data at all would have "matched"
    byte[] wraps = file(payload(1, entry("w", 0, new long[] {65536, 65536, 65536, 65536}, new byte[0])));
    assertEquals("checkpoint 'c' is malformed: variable 'w' of shape [65536,65536,65536,65536] has more elements "
        + "than a tensor can hold", decodeFails(wraps));
    // 2^62 f32 elements: the byte count (2^64) wraps to 0
    byte[] bytesWrap = file(payload(1, entry("v", 0, new long[] {1 << 30, 1 << 30, 4}, new byte[0])));
    assertEquals("checkpoint 'c' is malformed: variable 'v' of shape [1073741824,1073741824,4] has more elements "
        + "than a tensor can hold", decodeFails(bytesWrap));
    byte[] tooMany = file(payload(1, entry("u", 4, new long[] {65536, 32768}, new byte[0])));
    assertEquals("checkpoint 'c' is malformed: variable 'u' of shape [65536,32768] has more elements "
        + "than a tensor can hold", decodeFails(tooMany));
    byte[] past = file(payload(1, entry("t", 1, new long[] {3}, new byte[16])));
    assertEquals("checkpoint 'c' is malformed: variable 't' of shape [3] runs past the end of the payload",
        decodeFails(past));
  }

  @Test
  void everyOtherMalformedFieldIsNamed() {
    byte[] one = new byte[] {0, 0, (byte) 0x80, 0x3f};
    assertEquals("checkpoint 'c' is malformed: variable 'w' has dimension 4294967295 in shape [4294967295], "
        + "more than 2147483647", decodeFails(file(payload(1, entry("w", 0, new long[] {0xffffffffL}, one)))));
    assertEquals("checkpoint 'c' is malformed: variable 'w' has unknown dtype code 10",
        decodeFails(file(payload(1, entry("w", 10, new long[] {1}, one)))));
    assertEquals("checkpoint 'c' is malformed: variable 'w' appears twice",
        decodeFails(file(payload(2, entry("w", 2, new long[0], one), entry("w", 2, new long[0], one)))));
    assertEquals("checkpoint 'c' is malformed: entry 0 has an empty name",
        decodeFails(file(payload(1, entry("", 2, new long[0], one)))));
    assertEquals("checkpoint 'c' is malformed: bool variable 'f' holds 2 at index 1 (a bool is 0 or 1)",
        decodeFails(file(payload(1, entry("f", 4, new long[] {3}, new byte[] {1, 2, 0})))));
    assertEquals("checkpoint 'c' is malformed: 4 bytes after the last variable",
        decodeFails(file(payload(1, entry("w", 2, new long[0], one), new byte[4]))));
    assertEquals("checkpoint 'c' is malformed: it declares 4294967295 variables, more than its 4-byte payload holds",
        decodeFails(file(payload(-1))));
    assertEquals("checkpoint 'c' is malformed: it declares 2 variables, more than its 13-byte payload holds",
        decodeFails(file(payload(2, entry("w", 2, new long[0], one)))));
    assertEquals("checkpoint 'c' is malformed: variable 'w' has rank 200; its dimensions run past the end of the "
        + "payload", decodeFails(rank200()));
    byte[] badName = file(payload(1, new byte[] {0, 1, (byte) 0xff, 0, 0, 0, 0, 0, 0}));
    assertEquals("checkpoint 'c' is malformed: name of entry 0 is not UTF-8", decodeFails(badName));
  }

  private static byte[] rank200() {
    ByteBuffer p = ByteBuffer.allocate(4 + 2 + 1 + 2 + 8).putInt(1).putShort((short) 1).put((byte) 'w')
        .put((byte) 0).put((byte) 200).putLong(0);
    return file(Arrays.copyOf(p.array(), p.position()));
  }

  /**
   * Mutants of a valid checkpoint, with the length and checksum fixed up so that the structure is what is
   * tested: each either decodes or fails with a CheckpointException naming the file, never another exception.
   */
  @Test
  void mutatedPayloadsFailOnlyWithCheckpointException() {
    byte[] good = CheckpointFormat.encode(sample());
    byte[] payload = Arrays.copyOfRange(good, 24, good.length);
    Random random = new Random(14);
    for (int i = 0; i < 3000; i++) {
      byte[] p = payload.clone();
      switch (i % 3) {
        case 0 -> p[random.nextInt(p.length)] = (byte) random.nextInt(256);
        case 1 -> {
          int at = random.nextInt(p.length - 3);
          p[at] = (byte) 0xff;
          p[at + 1] = (byte) random.nextInt(256);
        }
        default -> p = Arrays.copyOf(p, random.nextInt(p.length + 8));
      }
      byte[] f = file(p);
      try {
        CheckpointFormat.decode(f, "c");
      } catch (CheckpointException e) {
        assertEquals("checkpoint 'c' ", e.getMessage().substring(0, 15));
      } catch (RuntimeException | Error e) {
        throw new AssertionError("mutant " + i + ": " + e, e);
      }
    }
  }
}
