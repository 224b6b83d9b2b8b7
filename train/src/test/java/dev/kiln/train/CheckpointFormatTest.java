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
        + Long.toUnsignedString(ByteBuffer.wrap(huge, 12, 8).getLong()) + " bytes",
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
}
