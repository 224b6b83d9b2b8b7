package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  /** An IDX file written by hand: magic, sizes, then values. */
  private static byte[] idx(int magic, int[] dims, byte[] values) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(magic);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(values);
    return bytes.toByteArray();
  }

  private static byte[] gzip(byte[] plain) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(plain);
    }
    return bytes.toByteArray();
  }

  private static IdxFile read(byte[] b) throws IOException {
    return IdxReader.read(new ByteArrayInputStream(b), "t.idx");
  }

  @Test
  void readsPlainAndGzipImages() throws IOException {
    byte[] values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, (byte) 255};
    byte[] plain = idx(0x803, new int[] {3, 2, 2}, values);
    for (byte[] file : new byte[][] {plain, gzip(plain)}) {
      IdxFile f = read(file);
      assertArrayEquals(new int[] {3, 2, 2}, f.dims());
      assertEquals(3, f.count());
      assertEquals(4, f.itemSize());
      assertEquals(255, f.get(11));
      assertArrayEquals(values, f.data());
    }
  }

  @Test
  void readsFromPath(@TempDir Path dir) throws IOException {
    Path p = dir.resolve("labels.idx1-ubyte.gz");
    Files.write(p, gzip(idx(0x801, new int[] {4}, new byte[] {7, 0, 9, 3})));
    IdxFile f = IdxReader.read(p);
    assertArrayEquals(new int[] {4}, f.dims());
    assertEquals(9, f.get(2));
  }

  @Test
  void rejectsBadMagic() {
    var e = assertThrows(IdxFormatException.class, () -> read(idx(0x01000803, new int[] {1, 1, 1}, new byte[1])));
    assertEquals("IDX file 't.idx': bad magic number 0x01000803 (the first two bytes must be zero)", e.getMessage());
  }

  @Test
  void rejectsUnsupportedElementType() {
    var e = assertThrows(IdxFormatException.class, () -> read(idx(0x0D01, new int[] {1}, new byte[4])));
    assertEquals("IDX file 't.idx': element type 0x0d is not supported (only unsigned byte, 0x08)", e.getMessage());
  }

  @Test
  void rejectsZeroDimensions() {
    var e = assertThrows(IdxFormatException.class, () -> read(idx(0x800, new int[0], new byte[0])));
    assertEquals("IDX file 't.idx': has 0 dimensions", e.getMessage());
  }

  @Test
  void rejectsTruncatedHeader() throws IOException {
    byte[] full = idx(0x803, new int[] {2, 2, 2}, new byte[8]);
    var e = assertThrows(IdxFormatException.class, () -> read(Arrays.copyOf(full, 10)));
    assertEquals("IDX file 't.idx': truncated header: missing the size of dimension 1", e.getMessage());
  }

  @Test
  void rejectsTruncatedData() throws IOException {
    byte[] full = idx(0x803, new int[] {2, 2, 2}, new byte[8]);
    byte[] cut = Arrays.copyOf(full, full.length - 3);
    String expected = "IDX file 't.idx': truncated: dimensions [2, 2, 2] need 8 data bytes, found 5";
    assertEquals(expected, assertThrows(IdxFormatException.class, () -> read(cut)).getMessage());
    // the same file gzip-compressed and then cut inside the compressed stream
    byte[] gz = gzip(full);
    byte[] gzCut = Arrays.copyOf(gz, gz.length - 12);
    assertThrows(IdxFormatException.class, () -> read(gzCut));
  }

  @Test
  void rejectsTrailingBytes() throws IOException {
    byte[] file = idx(0x801, new int[] {2}, new byte[3]);
    var e = assertThrows(IdxFormatException.class, () -> read(file));
    assertEquals("IDX file 't.idx': unexpected bytes after the 2 data bytes that dimensions [2] need", e.getMessage());
  }

  @Test
  void rejectsNegativeSize() {
    var e = assertThrows(IdxFormatException.class, () -> read(idx(0x801, new int[] {-5}, new byte[0])));
    assertEquals("IDX file 't.idx': size of dimension 0 is negative (4294967291 read as unsigned)", e.getMessage());
  }

  @Test
  void missingResourceIsNamed() {
    var e = assertThrows(IllegalArgumentException.class, () -> IdxReader.readResource("mnist/nope.gz"));
    assertEquals("IDX resource 'mnist/nope.gz' is not on the class path", e.getMessage());
  }

  @Test
  void mnistChecksImageAndLabelFilesAgree() throws IOException {
    IdxFile images = read(idx(0x803, new int[] {2, 1, 2}, new byte[] {0, (byte) 255, 51, 102}));
    IdxFile labels = read(idx(0x801, new int[] {3}, new byte[] {1, 2, 3}));
    var e = assertThrows(IdxFormatException.class, () -> Mnist.fromIdx(images, "img", labels, "lab"));
    assertEquals("MNIST: 'img' holds 2 images but 'lab' holds 3 labels", e.getMessage());
    var rank = assertThrows(IdxFormatException.class, () -> Mnist.fromIdx(labels, "lab", labels, "lab"));
    assertEquals("IDX file 'lab': expected images with 3 dimensions, got [3]", rank.getMessage());
    IdxFile badLabels = read(idx(0x801, new int[] {2}, new byte[] {1, 10}));
    var digit = assertThrows(IdxFormatException.class, () -> Mnist.fromIdx(images, "img", badLabels, "lab"));
    assertEquals("MNIST: label 1 of 'lab' is 10, not a digit 0-9", digit.getMessage());
    Dataset d = Mnist.fromIdx(images, "img", read(idx(0x801, new int[] {2}, new byte[] {4, 9})), "lab");
    assertArrayEquals(new float[] {0f, 1f, 0.2f, 0.4f}, d.features());
    assertArrayEquals(new int[] {4, 9}, d.labels());
    assertEquals(2, d.featureSize());
  }

  @Test
  void bundledMnistLoads() {
    Dataset d = Mnist.load();
    assertEquals(10_000, d.size());
    assertEquals(784, d.featureSize());
    // per-class counts documented in the data's README
    int[] counts = new int[10];
    for (int y : d.labels()) {
      counts[y]++;
    }
    assertArrayEquals(new int[] {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}, counts);
    for (float v : d.features()) {
      if (v < 0 || v > 1) {
        throw new AssertionError("pixel outside [0, 1]: " + v);
      }
    }
  }
}
