package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

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
    assertEquals("a.npy: unsupported dtype '>f4' (kiln reads little-endian <f4, <f8, <i4, <i8 and |b1)",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode(bigEndian, "a.npy")).getMessage());
    byte[] fortran = new String(good, StandardCharsets.ISO_8859_1).replace("False", "True ")
        .getBytes(StandardCharsets.ISO_8859_1);
    assertEquals("a.npy: Fortran-order array; save it in C order (np.save(f, np.ascontiguousarray(a)))",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode(fortran, "a.npy")).getMessage());
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
    assertEquals("a.npy: <f4 array of shape [2] needs 8 bytes of data, the file has 7",
        assertThrows(IllegalArgumentException.class, () -> NpyIO.decode(truncated, "a.npy")).getMessage());
  }
}
