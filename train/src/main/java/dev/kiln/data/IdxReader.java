package dev.kiln.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

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
  /** The first allocation for values whose count no file size has confirmed. */
  private static final int UNPROVEN_START = 1 << 20;

  private IdxReader() {}

  /** Reads an IDX file, plain or gzip-compressed. */
  public static IdxFile read(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      // a regular file's size is checked against the header before anything is allocated for the values
      long size = Files.isRegularFile(path) ? ch.size() : -1;
      return read(Channels.newInputStream(ch), size, path.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read IDX file '" + path + "': " + e.getMessage(), e);
    }
  }

  /** Reads an IDX file resource from the class path, plain or gzip-compressed. */
  public static IdxFile readResource(String resource) {
    String name = resource.startsWith("/") ? resource.substring(1) : resource;
    // Kiln's own data first (as a named module, its resources are visible only through its classes),
    // then the class path or another module's open resources.
    InputStream own = IdxReader.class.getResourceAsStream("/" + name);
    InputStream in = own != null ? own : IdxReader.class.getClassLoader().getResourceAsStream(name);
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
   * The whole stream must be consumed by the declared sizes: trailing bytes are an error. The values'
   * array grows with the bytes that arrive, so a header that claims more than the stream holds fails at
   * its end without allocating the claim.
   */
  public static IdxFile read(InputStream in, String source) throws IOException {
    return read(in, -1, source);
  }

  /** {@code size} is the length of the file behind {@code in} when known, else -1. */
  private static IdxFile read(InputStream in, long size, String source) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    boolean gzip = b0 == 0x1f && b1 == 0x8b;
    try {
      InputStream body;
      try {
        body = gzip ? new GZIPInputStream(buffered, 1 << 16) : buffered;
      } catch (EOFException e) {
        throw new IdxFormatException("IDX file '" + source + "': truncated: the file ends inside its gzip header");
      }
      return readIdx(new DataInputStream(new BufferedInputStream(body, 1 << 16)), gzip ? -1 : size, source);
    } catch (ZipException e) {
      throw new IdxFormatException("IDX file '" + source + "': corrupted gzip data: " + e.getMessage());
    } catch (EOFException e) {
      throw new IdxFormatException("IDX file '" + source + "': truncated: the gzip data ends early");
    }
  }

  private static IdxFile readIdx(DataInputStream data, long size, String source) throws IOException {
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
    long item = 1;
    for (int i = 0; i < rank; i++) {
      dims[i] = readHeaderInt(data, source, "size of dimension " + i);
      if (dims[i] < 0) {
        throw new IdxFormatException("IDX file '" + source + "': size of dimension " + i + " is negative ("
            + Integer.toUnsignedString(dims[i]) + " read as unsigned)");
      }
      n *= dims[i];
      item *= i > 0 ? dims[i] : 1;
      if (n > MAX_VALUES || item > MAX_VALUES) {
        throw new IdxFormatException("IDX file '" + source + "': dimensions " + Arrays.toString(dims)
            + " hold more values than a Java array can");
      }
    }
    if (size >= 0) {
      long available = size - 4 - 4L * rank;
      if (available < n) {
        throw truncated(source, dims, n, available);
      }
      if (available > n) {
        throw trailing(source, dims, n);
      }
    }
    byte[] values = readValues(data, (int) n, size >= 0);
    if (values.length != n) {
      throw truncated(source, dims, n, values.length);
    }
    if (data.read() != -1) {
      throw trailing(source, dims, n);
    }
    return new IdxFile(dims, values);
  }

  /**
   * Reads up to {@code n} bytes; fewer if the stream ends first. Unless {@code proven} (the file's size
   * was checked), the array starts small and doubles as bytes arrive.
   */
  private static byte[] readValues(InputStream in, int n, boolean proven) throws IOException {
    byte[] values = new byte[proven ? n : Math.min(n, UNPROVEN_START)];
    int got = 0;
    try {
      while (got < n) {
        if (got == values.length) {
          values = Arrays.copyOf(values, (int) Math.min(n, 2L * values.length));
        }
        int r = in.read(values, got, values.length - got);
        if (r < 0) {
          break;
        }
        got += r;
      }
    } catch (EOFException e) {
      // GZIPInputStream reports a cut-off file this way; the count tells the caller how much arrived.
    }
    return got == values.length ? values : Arrays.copyOf(values, got);
  }

  private static IdxFormatException truncated(String source, int[] dims, long n, long found) {
    return new IdxFormatException("IDX file '" + source + "': truncated: dimensions " + Arrays.toString(dims)
        + " need " + n + " data bytes, found " + found);
  }

  private static IdxFormatException trailing(String source, int[] dims, long n) {
    return new IdxFormatException("IDX file '" + source + "': unexpected bytes after the " + n
        + " data bytes that dimensions " + Arrays.toString(dims) + " need");
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
