package dev.kiln.reliability;

import dev.kiln.data.IdxFile;
import dev.kiln.data.IdxReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Mutated IDX files, plain and gzip-compressed, through {@code dev.kiln.data.IdxReader.read(Path)}. */
final class IdxFuzz {
  /** Header sizes that claim far more values than an 8-byte file holds, up to and past 2^31. */
  private static final List<int[]> LYING_DIMS = List.of(new int[] {32768, 65536}, new int[] {65536, 32767},
      new int[] {Integer.MAX_VALUE}, new int[] {Integer.MAX_VALUE - 8}, new int[] {1 << 30}, new int[] {16384, 16384},
      new int[] {1 << 28}, new int[] {2, 1 << 30}, new int[] {46341, 46341}, new int[] {-1}, new int[] {0x80000000},
      new int[] {60000, 28, 28}, new int[] {1 << 20, 1 << 20});

  private final Path dir;
  private final Random rnd = new Random(1717);

  IdxFuzz(Path dir) {
    this.dir = dir;
  }

  void run(Check check, int n) throws IOException {
    List<byte[]> bases = List.of(idx(new int[] {10, 4, 4}), idx(new int[] {10}), idx(new int[] {3, 2, 2, 2}),
        idx(new int[] {0}), idx(new int[] {1, 28, 28}));
    for (int i = 0; i < n; i++) {
      String[] what = new String[1];
      byte[] plain = mutant(bases.get(i % bases.size()), what);
      boolean gz = i % 2 == 1;
      byte[] bytes = gz ? gzip(plain) : plain;
      if (gz && rnd.nextInt(4) == 0) {
        int cut = rnd.nextInt(bytes.length);
        bytes = Arrays.copyOf(bytes, cut);
        what[0] += ", gzip cut at " + cut;
      }
      Path f = dir.resolve("m" + i + (gz ? ".idx.gz" : ".idx"));
      Files.write(f, bytes);
      check.record("idx " + i + " (" + (gz ? "gzip, " : "") + what[0] + ", " + bytes.length + " bytes)",
          ReaderProbe.probe(f, gz ? plain.length : bytes.length, IdxReader::read, IdxFuzz::consistent));
      Files.delete(f);
    }
    // A gzip stream cut inside the IDX header, and a 3 GiB file of zeros (sparse).
    byte[] header = gzip(idx(new int[] {10, 4, 4}));
    for (int cut : new int[] {10, 15, 20}) {
      Path f = dir.resolve("header-cut-" + cut + ".idx.gz");
      Files.write(f, Arrays.copyOf(gzip(Arrays.copyOf(idx(new int[] {10, 4, 4}), 6)), Math.min(cut, header.length)));
      check.record("idx: gzip of a 6-byte header, cut at " + cut, ReaderProbe.probe(f, 6, IdxReader::read, IdxFuzz::consistent));
      Files.delete(f);
    }
    Path f = dir.resolve("gzip-header-only.idx.gz");
    Files.write(f, gzip(Arrays.copyOf(idx(new int[] {10, 4, 4}), 6)));
    check.record("idx: gzip holding a 6-byte (cut) header", ReaderProbe.probe(f, 6, IdxReader::read, IdxFuzz::consistent));
    Files.delete(f);
    Path big = dir.resolve("zeros-3GiB.idx");
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.setLength(3L << 30);
    }
    check.record("idx: a 3 GiB file of zeros", ReaderProbe.probe(big, 3L << 30, IdxReader::read, IdxFuzz::consistent));
    Files.delete(big);
  }

  private static String consistent(IdxFile f) {
    long n = 1;
    for (int d : f.dims()) {
      n *= d;
    }
    return n == f.data().length ? null : "dims " + Arrays.toString(f.dims()) + " but " + f.data().length + " values";
  }

  private byte[] idx(int[] dims) {
    long n = 1;
    for (int d : dims) {
      n *= d;
    }
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + (int) n);
    b.putInt(0x0800 | dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    byte[] values = new byte[(int) n];
    rnd.nextBytes(values);
    return b.put(values).array();
  }

  private byte[] mutant(byte[] base, String[] what) {
    byte[] b = base.clone();
    int header = Math.min(b.length, 4 + 4 * (b[3] & 0xff));
    switch (rnd.nextInt(8)) {
      case 0, 1 -> {
        what[0] = "header byte flips";
        for (int k = 1 + rnd.nextInt(2); k > 0; k--) {
          int i = rnd.nextInt(Math.max(1, header));
          b[i] ^= (byte) (1 << rnd.nextInt(8));
        }
      }
      case 2 -> {
        what[0] = "byte flips anywhere";
        int i = rnd.nextInt(b.length);
        b[i] ^= (byte) (1 << rnd.nextInt(8));
      }
      case 3 -> {
        int cut = rnd.nextInt(b.length);
        what[0] = "truncated to " + cut;
        b = Arrays.copyOf(b, cut);
      }
      case 4 -> {
        what[0] = "bytes appended";
        b = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(16));
      }
      case 5, 6 -> {
        int[] dims = LYING_DIMS.get(rnd.nextInt(LYING_DIMS.size()));
        what[0] = "header claims dims " + Arrays.toString(dims);
        ByteBuffer h = ByteBuffer.allocate(4 + 4 * dims.length + rnd.nextInt(8));
        h.putInt(0x0800 | dims.length);
        for (int d : dims) {
          h.putInt(d);
        }
        b = h.array();
      }
      default -> {
        what[0] = "rank byte " + (b.length > 3 ? "changed" : "absent");
        if (b.length > 3) {
          b[3] = (byte) rnd.nextInt(256);
        }
      }
    }
    return b;
  }

  private static byte[] gzip(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    }
    return out.toByteArray();
  }
}
