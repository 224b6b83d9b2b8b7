package dev.kiln.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files, the format of the MNIST database: a big-endian header (two zero bytes, a type code,
 * the number of dimensions, then one 32-bit size per dimension) followed by the values. Only the
 * unsigned-byte type (0x08) that MNIST uses is supported. Gzip-compressed files are recognised by
 * their magic bytes and decompressed on the fly.
 *
 * <p>Every check fails with an {@link IdxFormatException} naming the source and what is wrong.
 */
public final class IdxReader {
  /** Magic number of an MNIST image file: unsigned bytes, 3 dimensions (count, rows, columns). */
  public static final int IMAGES_MAGIC = 0x00000803;
  /** Magic number of an MNIST label file: unsigned bytes, 1 dimension (count). */
  public static final int LABELS_MAGIC = 0x00000801;

  private static final int UNSIGNED_BYTE = 0x08;
  /** Guards against absurd headers (a corrupted size would otherwise allocate gigabytes). */
  private static final long MAX_VALUES = Integer.MAX_VALUE - 8;

  private IdxReader() {}

  /** Reads an IDX file, plain or gzip-compressed. */
  public static IdxFile read(Path path) {
    try (InputStream in = Files.newInputStream(path)) {
      return read(in, path.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read IDX file '" + path + "': " + e.getMessage(), e);
    }
  }

  /** Reads an IDX file resource from the class path, plain or gzip-compressed. */
  public static IdxFile readResource(String resource) {
    String name = resource.startsWith("/") ? resource.substring(1) : resource;
    InputStream in = IdxReader.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IllegalArgumentException("IDX resource '" + name + "' is not on the class path");
    }
    try (in) {
      return read(in, name);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read IDX resource '" + name + "': " + e.getMessage(), e);
    }
  }

  /**
   * Reads an IDX file from {@code in}, which the caller closes; {@code source} names it in messages.
   * The whole stream must be consumed by the declared sizes: trailing bytes are an error.
   */
  public static IdxFile read(InputStream in, String source) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(in);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    InputStream body = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(buffered, 1 << 16) : buffered;
    DataInputStream data = new DataInputStream(new BufferedInputStream(body, 1 << 16));

    int magic = readHeaderInt(data, source, "magic number");
    if ((magic >>> 16) != 0) {
      throw new IdxFormatException(String.format(
          "IDX file '%s': bad magic number 0x%08x (the first two bytes must be zero)", source, magic));
    }
    int type = (magic >>> 8) & 0xff;
    int rank = magic & 0xff;
    if (type != UNSIGNED_BYTE) {
      throw new IdxFormatException(String.format(
          "IDX file '%s': element type 0x%02x is not supported (only unsigned byte, 0x08)", source, type));
    }
    if (rank == 0) {
      throw new IdxFormatException("IDX file '" + source + "': has 0 dimensions");
    }
    int[] dims = new int[rank];
    long n = 1;
    for (int i = 0; i < rank; i++) {
      dims[i] = readHeaderInt(data, source, "size of dimension " + i);
      if (dims[i] < 0) {
        throw new IdxFormatException("IDX file '" + source + "': size of dimension " + i + " is negative ("
            + Integer.toUnsignedString(dims[i]) + " read as unsigned)");
      }
      n *= dims[i];
      if (n > MAX_VALUES) {
        throw new IdxFormatException("IDX file '" + source + "': dimensions " + Arrays.toString(dims)
            + " hold more values than a Java array can");
      }
    }
    byte[] values = new byte[(int) n];
    int got = readFully(data, values);
    if (got != values.length) {
      throw new IdxFormatException("IDX file '" + source + "': truncated: dimensions "
          + Arrays.toString(dims) + " need " + values.length + " data bytes, found " + got);
    }
    if (data.read() != -1) {
      throw new IdxFormatException("IDX file '" + source + "': unexpected bytes after the "
          + values.length + " data bytes that dimensions " + Arrays.toString(dims) + " need");
    }
    return new IdxFile(dims, values);
  }

  /** Reads up to values.length bytes; a compressed stream that ends early counts as the end. */
  private static int readFully(InputStream in, byte[] values) throws IOException {
    int got = 0;
    try {
      while (got < values.length) {
        int r = in.read(values, got, values.length - got);
        if (r < 0) {
          break;
        }
        got += r;
      }
    } catch (EOFException e) {
      // GZIPInputStream reports a cut-off file this way; the count tells the caller how much arrived.
    }
    return got;
  }

  private static int readHeaderInt(DataInputStream in, String source, String what) throws IOException {
    try {
      return in.readInt();
    } catch (EOFException e) {
      throw new IdxFormatException("IDX file '" + source + "': truncated header: missing the " + what);
    }
  }

  /** Checks that {@code file} has the given magic's rank; used for MNIST's images and labels. */
  static void requireRank(IdxFile file, int rank, String source, String what) {
    if (file.dims().length != rank) {
      throw new IdxFormatException("IDX file '" + source + "': expected " + what + " with " + rank
          + " dimension" + (rank == 1 ? "" : "s") + ", got " + Arrays.toString(file.dims()));
    }
  }
}
