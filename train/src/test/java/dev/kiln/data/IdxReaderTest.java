package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
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

  interface Read {
    void run() throws Exception;
  }

  /** Bytes allocated by this thread while {@code r} runs. */
  static long allocatedBy(Read r) throws Exception {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    r.run();
    return threads.getCurrentThreadAllocatedBytes() - before;
  }

  @Test
  void aHeaderClaimingTwoGigabytesIsCheckedBeforeAllocating(@TempDir Path dir) throws Exception {
    byte[] eight = idx(0x801, new int[] {0x7ffffff7}, new byte[0]);
    assertEquals(8, eight.length);
    String expected = "truncated: dimensions [2147483639] need 2147483639 data bytes, found 0";
    Path plain = Files.write(dir.resolve("big.idx"), eight);
    Path gz = Files.write(dir.resolve("big.idx.gz"), gzip(eight));
    for (Read read : new Read[] {
        () -> assertEquals("IDX file '" + plain + "': " + expected,
            assertThrows(IdxFormatException.class, () -> IdxReader.read(plain)).getMessage()),
        () -> assertEquals("IDX file '" + gz + "': " + expected,
            assertThrows(IdxFormatException.class, () -> IdxReader.read(gz)).getMessage()),
        () -> assertEquals("IDX file 't.idx': " + expected, assertThrows(IdxFormatException.class, () -> read(eight))
            .getMessage())}) {
      long allocated = allocatedBy(read);
      assertTrue(allocated < 32 << 20, "allocated " + allocated + " bytes for an 8-byte file");
    }
    // a sparse 3 GiB file whose header claims fewer values than it holds
    Path sparse = dir.resolve("sparse.idx");
    try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
      f.writeInt(0x801);
      f.writeInt(10);
      f.setLength(3L << 30);
    }
    assertEquals("IDX file '" + sparse + "': unexpected bytes after the 10 data bytes that dimensions [10] need",
        assertThrows(IdxFormatException.class, () -> IdxReader.read(sparse)).getMessage());
  }

  @Test
  void gzipCutInsideItsHeaderNamesTheFile(@TempDir Path dir) throws IOException {
    byte[] gz = gzip(idx(0x803, new int[] {2, 2, 2}, new byte[8]));
    for (int cut = 2; cut < 10; cut++) {
      byte[] b = Arrays.copyOf(gz, cut);
      assertEquals("IDX file 't.idx': truncated: the file ends inside its gzip header",
          assertThrows(IdxFormatException.class, () -> read(b)).getMessage());
    }
    Path p = Files.write(dir.resolve("cut.gz"), Arrays.copyOf(gz, 5));
    assertEquals("IDX file '" + p + "': truncated: the file ends inside its gzip header",
        assertThrows(IdxFormatException.class, () -> IdxReader.read(p)).getMessage());
    // cut inside the compressed IDX header
    byte[] inIdxHeader = Arrays.copyOf(gzip(idx(0x803, new int[] {2, 2, 2}, new byte[8])), 12);
    assertEquals("IDX file 't.idx': truncated header: missing the magic number",
        assertThrows(IdxFormatException.class, () -> read(inIdxHeader)).getMessage());
  }

  @Test
  void corruptedGzipIsAFormatError() throws IOException {
    byte[] gz = gzip(idx(0x801, new int[] {4}, new byte[] {1, 2, 3, 4}));
    byte[] badCrc = gz.clone();
    badCrc[gz.length - 8] ^= 1;
    assertEquals("IDX file 't.idx': corrupted gzip data: Corrupt GZIP trailer",
        assertThrows(IdxFormatException.class, () -> read(badCrc)).getMessage());
    byte[] badMethod = gz.clone();
    badMethod[2] = 7; // compression method: only 8, deflate, exists
    assertEquals("IDX file 't.idx': corrupted gzip data: Unsupported compression method",
        assertThrows(IdxFormatException.class, () -> read(badMethod)).getMessage());
  }

  @Test
  void idxFileChecksItsValuesFillItsDimensions() {
    var e = assertThrows(IllegalArgumentException.class, () -> new IdxFile(new int[] {2, 3}, new byte[5]));
    assertEquals("IdxFile: dimensions [2, 3] hold 6 values, got 5", e.getMessage());
    assertEquals("IdxFile: no dimensions",
        assertThrows(IllegalArgumentException.class, () -> new IdxFile(new int[0], new byte[1])).getMessage());
    assertEquals("IdxFile: dimension 0 of [-1] is negative",
        assertThrows(IllegalArgumentException.class, () -> new IdxFile(new int[] {-1}, new byte[0])).getMessage());
  }

  /** Mutants of plain and gzip files: each reads, or fails with an IdxFormatException naming the file. */
  @Test
  void mutatedFilesFailOnlyWithIdxFormatException() throws IOException {
    byte[] plain = idx(0x803, new int[] {3, 2, 2}, new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    byte[] gz = gzip(plain);
    Random random = new Random(14);
    for (int i = 0; i < 2000; i++) {
      byte[] b = (i % 2 == 0 ? plain : gz).clone();
      switch (i % 6 / 2) {
        case 0 -> b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        case 1 -> b[random.nextInt(Math.min(b.length, 16))] = (byte) (random.nextBoolean() ? 0xff : 0x7f);
        default -> b = Arrays.copyOf(b, random.nextInt(b.length + 4));
      }
      try {
        read(b);
      } catch (IdxFormatException e) {
        assertTrue(e.getMessage().startsWith("IDX file 't.idx': "), e.getMessage());
      } catch (IOException | RuntimeException | Error e) {
        throw new AssertionError("mutant " + i + ": " + e, e);
      }
    }
  }
}
