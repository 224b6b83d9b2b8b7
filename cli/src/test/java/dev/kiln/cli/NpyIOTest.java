package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.io.ByteArrayInputStream;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyIOTest {
  @Test
  void everyDtypeRoundTrips() {
    List<Tensor> ts = List.of(Tensor.of(new float[] {1.5f, -0f, Float.NaN, 3e38f, 1e-45f, 7}, 2, 3),
        Tensor.of(new double[] {Math.PI, -1e300}, 2), Tensor.of(new int[] {Integer.MIN_VALUE, 0, 7}, 3, 1),
        Tensor.scalar(Long.MAX_VALUE), Tensor.of(new boolean[] {true, false, true}, 3), Tensor.of(new float[0], 0, 4));
    for (Tensor t : ts) {
      byte[] bytes = NpyIO.encode(t);
      assertEquals(0, (bytes.length - t.size() * t.dtype().byteSize()) % 64, "data starts at a multiple of 64");
      assertEquals(t, NpyIO.decode(bytes, "t.npy"));
    }
  }

  @Test
  void narrowDtypesRoundTripAtTheirOwnWidth() {
    List<Tensor> ts = List.of(Tensor.ofFloat16Bits(new short[] {0x3C00, (short) 0xFC00, 0x0001, 0x7BFF}, 2, 2),
        Tensor.ofInt8(new byte[] {-128, 127, 0}, 3), Tensor.ofUint8(new byte[] {-1, 1}, 2),
        Tensor.ofInt16(new short[] {Short.MIN_VALUE, Short.MAX_VALUE}, 2));
    String[] descr = {"<f2", "|i1", "|u1", "<i2"};
    for (int k = 0; k < ts.size(); k++) {
      Tensor t = ts.get(k);
      byte[] bytes = NpyIO.encode(t);
      assertTrue(new String(bytes, StandardCharsets.ISO_8859_1).contains("'descr': '" + descr[k] + "'"));
      assertEquals(0, (bytes.length - t.size() * t.dtype().byteSize()) % 64, "data starts at a multiple of 64");
      assertEquals(t, NpyIO.decode(bytes, "t.npy"));
    }
    // float16 1.0 is 0x3C00, little-endian: 00 3C.
    byte[] h = NpyIO.encode(Tensor.ofFloat16Bits(new short[] {0x3C00}, 1));
    assertEquals(0x00, h[h.length - 2] & 0xff);
    assertEquals(0x3C, h[h.length - 1] & 0xff);
    assertEquals("a bf16 tensor has no .npy dtype: cast it to f32 first", assertThrows(IllegalArgumentException.class,
        () -> NpyIO.encode(Tensor.ofBfloat16(new float[] {1}, 1))).getMessage());
  }

  @Test
  void writesNumpysHeader() {
    byte[] bytes = NpyIO.encode(Tensor.of(new int[] {1, 2, 3}, 3));
    assertEquals("\u0093NUMPY\u0001\u0000", new String(bytes, 0, 8, StandardCharsets.ISO_8859_1));
    assertEquals(118, (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8);
    String header = new String(bytes, 10, 118, StandardCharsets.ISO_8859_1);
    assertEquals("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", header.strip());
    assertEquals('\n', header.charAt(117));
    assertEquals(1, bytes[128]);
    assertEquals(2, bytes[132]);
  }

  @Test
  void readsTheExampleInputsWrittenByPython() throws Exception {
    Tensor x = NpyIO.read(Path.of("../examples/graphs/x.npy"));
    assertEquals(DType.FLOAT32, x.dtype());
    assertEquals(Shape.of(8, 1000), x.shape());
    float[] xs = x.toFloatArray();
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 1000; j++) {
        assertEquals(((7 * i + 13 * j) % 17 - 8) / 8f, xs[i * 1000 + j]);
      }
    }
    Tensor y = NpyIO.read(Path.of("../examples/graphs/y.npy"));
    assertEquals(Shape.of(8, 10), y.shape());
    float[] expected = new float[80];
    for (int i = 0; i < 8; i++) {
      expected[i * 10 + (3 * i) % 10] = 1;
    }
    assertArrayEquals(expected, y.toFloatArray());
  }

  @Test
  void refusesWhatItCannotRead() {
    byte[] good = NpyIO.encode(Tensor.of(new float[] {1, 2}, 2));
    assertEquals("a.npy: not a .npy file (no \\x93NUMPY magic)",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode("hello world".getBytes(), "a.npy")).getMessage());
    byte[] bigEndian = good.clone();
    bigEndian[21] = '>';
    assertEquals("a.npy: unsupported dtype '>f4' (kiln reads little-endian <f4, <f8, <i4, <i8, |b1, <f2, |i1, |u1 and <i2)",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode(bigEndian, "a.npy")).getMessage());
    byte[] fortran = new String(good, StandardCharsets.ISO_8859_1).replace("False", "True ")
        .getBytes(StandardCharsets.ISO_8859_1);
    assertEquals("a.npy: Fortran-order array; save it in C order (np.save(f, np.ascontiguousarray(a)))",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode(fortran, "a.npy")).getMessage());
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
    assertEquals("a.npy: <f4 array of shape [2] needs 8 bytes of data, the file has 7",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode(truncated, "a.npy")).getMessage());
  }

  /** A version-2 file: magic, 2.0, a u32 header length as given, then {@code rest}. */
  private static byte[] version2(long headerLength, byte[] rest) {
    return ByteBuffer.allocate(12 + rest.length).order(ByteOrder.LITTLE_ENDIAN)
        .put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt((int) headerLength).put(rest).array();
  }

  private static String fails(byte[] bytes) {
    return assertThrows(NpyFormatException.class, () -> NpyIO.decode(bytes, "a.npy")).getMessage();
  }

  @Test
  void headerLengthsBeyondTheFileAreTruncation() {
    byte[] dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n".getBytes(StandardCharsets.ISO_8859_1);
    assertEquals("a.npy: truncated .npy header: it declares 2147483647 bytes, the file has 58 after the header length",
        fails(version2(0x7fffffff, dict)));
    assertEquals("a.npy: truncated .npy header: it declares 4294967295 bytes, the file has 58 after the header length",
        fails(version2(0xffffffffL, dict)));
    assertEquals("a.npy: truncated .npy header: the file ends after 11 bytes",
        fails(Arrays.copyOf(version2(5, new byte[0]), 11)));
    // version 2 with a sound header reads
    byte[] ok = version2(dict.length, ByteBuffer.allocate(dict.length + 8).order(ByteOrder.LITTLE_ENDIAN).put(dict)
        .putFloat(1.5f).putFloat(-2f).array());
    assertEquals(Tensor.of(new float[] {1.5f, -2f}, 2), NpyIO.decode(ok, "a.npy"));
  }

  @Test
  void hugeFilesAreCheckedAgainstTheirHeaderWithoutBeingRead(@TempDir Path dir) throws Exception {
    long size = 3L << 30;
    Path zeros = dir.resolve("zeros.npy");
    try (RandomAccessFile f = new RandomAccessFile(zeros.toFile(), "rw")) {
      f.setLength(size);
    }
    assertEquals(zeros + ": not a .npy file (no \\x93NUMPY magic)",
        assertThrows(NpyFormatException.class, () -> NpyIO.read(zeros)).getMessage());
    Path big = dir.resolve("big.npy");
    byte[] header = NpyIO.encode(Tensor.of(new float[] {1, 2}, 2));
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.write(header, 0, header.length - 8);
      f.setLength(size);
    }
    assertEquals(big + ": <f4 array of shape [2] needs 8 bytes of data, the file has " + (size - 128),
        assertThrows(NpyFormatException.class, () -> NpyIO.read(big)).getMessage());
  }

  @Test
  void endlessDeviceIsRejectedAtItsMagic() {
    Path zero = Path.of("/dev/zero");
    Assumptions.assumeTrue(Files.isReadable(zero), "no /dev/zero here");
    assertEquals("/dev/zero: not a .npy file (no \\x93NUMPY magic)",
        assertThrows(NpyFormatException.class, () -> NpyIO.read(zero)).getMessage());
  }

  @Test
  void aStreamWithALyingHeaderFailsAtItsEndWithoutAllocatingTheClaim() throws Exception {
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (500000000,), }\n";
    byte[] lying = ByteBuffer.allocate(10 + dict.length() + 8).order(ByteOrder.LITTLE_ENDIAN)
        .put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) dict.length())
        .put(dict.getBytes(StandardCharsets.ISO_8859_1)).array();
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    var e = assertThrows(NpyFormatException.class, () -> NpyIO.read(new ByteArrayInputStream(lying), -1, "p.npy"));
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertEquals("p.npy: <f4 array of shape [500000000] needs 2000000000 bytes of data, the file has 8",
        e.getMessage());
    assertTrue(allocated < 32 << 20, "allocated " + allocated + " bytes for a file of " + lying.length);
    // a header length beyond what kiln reads, on a stream that would go on
    assertEquals("p.npy: .npy header of 16777216 bytes is longer than the 1048576 bytes kiln reads",
        assertThrows(NpyFormatException.class,
            () -> NpyIO.read(new ByteArrayInputStream(version2(1 << 24, new byte[64])), -1, "p.npy")).getMessage());
  }

  /** Mutants of valid files of every dtype: each reads, or fails with an NpyFormatException naming the file. */
  @Test
  void mutatedFilesFailOnlyWithNpyFormatException() {
    List<byte[]> good = List.of(NpyIO.encode(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)),
        NpyIO.encode(Tensor.of(new double[] {1, 2}, 2)), NpyIO.encode(Tensor.scalar(7L)),
        NpyIO.encode(Tensor.of(new boolean[] {true, false}, 2, 1)), NpyIO.encode(Tensor.of(new int[] {3}, 1)));
    Random random = new Random(14);
    for (int i = 0; i < 3000; i++) {
      byte[] b = good.get(i % good.size()).clone();
      switch (random.nextInt(4)) {
        case 0 -> b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        case 1 -> b[6 + random.nextInt(6)] = (byte) random.nextInt(256);
        case 2 -> {
          int at = 10 + random.nextInt(60);
          b[at] = (byte) "0123456789,()'-: LTrue".charAt(random.nextInt(22));
        }
        default -> b = Arrays.copyOf(b, random.nextInt(b.length + 4));
      }
      try {
        NpyIO.decode(b, "m.npy");
      } catch (NpyFormatException e) {
        assertTrue(e.getMessage().startsWith("m.npy: "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
      } catch (RuntimeException | Error e) {
        throw new AssertionError("mutant " + i + ": " + e, e);
      }
    }
  }
}
