package dev.kiln.reliability;

import dev.kiln.graph.Tensor;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Mutated .npy files through the cli's reader ({@code dev.kiln.cli.NpyIO.read(Path)}, package-private, so
 * reached by reflection), and a sample of them through {@code kiln run --feed} in-process, which must
 * print one line naming the file and exit non-zero.
 */
final class NpyFuzz {
  private static final String[] DESCR = {"<f4", "<f8", "<i4", "<i8", "|b1"};
  private static final int[] SIZE = {4, 8, 4, 8, 1};
  private static final List<String> BAD_SHAPES = List.of("(1000000,)", "(65536, 65536)", "(2147483647,)",
      "(4294967296,)", "(-1,)", "(3, -3)", "(x,)", "((2,),)", "(,)", "(99999999999999999999,)", "(2147483648, 0)",
      "(0, 2147483648)", "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)", "(805306368,)");
  private static final List<String> BAD_DESCR = List.of(">f4", "<f2", "|u1", "<c8", "<U3", "O", "", "<f4'", "<i4\\'");

  private final Path dir;
  private final Method read;
  private final Random rnd = new Random(4242);

  NpyFuzz(Path dir) throws ReflectiveOperationException {
    this.dir = dir;
    this.read = Class.forName("dev.kiln.cli.NpyIO").getDeclaredMethod("read", Path.class);
    read.setAccessible(true);
  }

  void run(Check check, Check cli, int n, int viaCli) throws Exception {
    List<byte[]> bases = bases();
    for (int i = 0; i < n; i++) {
      String[] what = new String[1];
      byte[] bytes = mutant(bases.get(i % bases.size()), what);
      Path f = dir.resolve("m" + i + ".npy");
      Files.write(f, bytes);
      check.record("npy " + i + " (" + what[0] + ", " + bytes.length + " bytes)", probe(f, bytes.length));
      if (i % Math.max(1, n / viaCli) == 0) {
        cli.record("kiln run --feed x=m" + i + ".npy (" + what[0] + ")", viaCli(f));
      }
      Files.delete(f);
    }
    // Files a header check alone must reject: 3 GiB of zeros (sparse) and /dev/zero.
    Path big = dir.resolve("zeros-3GiB.npy");
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.setLength(3L << 30);
    }
    check.record("npy: a 3 GiB file of zeros", probe(big, 3L << 30));
    cli.record("kiln run --feed x=zeros-3GiB.npy", viaCli(big));
    Files.delete(big);
    Path zero = Path.of("/dev/zero");
    if (Files.exists(zero)) {
      check.record("npy: /dev/zero", probe(zero, 0));
    }
  }

  private Verdict probe(Path f, long size) {
    return ReaderProbe.probe(f, size, p -> (Tensor) read.invoke(null, p), NpyFuzz::consistent);
  }

  private static String consistent(Tensor t) {
    long n = t.shape().numElements();
    return n == t.size() ? null : "tensor of shape " + t.shape() + " holds " + t.size() + " elements";
  }

  /**
   * {@code kiln run graph.kg --feed x=FILE --fetch y} in this JVM: exit 0, or exit non-zero with one line
   * naming the file (or, for a file that reads but does not fit, the placeholder x) and no stack trace.
   */
  private Verdict viaCli(Path npy) {
    try {
      Path graph = dir.resolve("identity.kg");
      if (!Files.exists(graph)) {
        Files.writeString(graph, "graph {\n  %x = Placeholder() {dtype = f32, shape = [*]} : f32[*]\n  %y = Identity(%x)\n}\n");
      }
      Method cl = Class.forName("dev.kiln.cli.Kiln").getDeclaredMethod("commandLine");
      cl.setAccessible(true);
      picocli.CommandLine cmd = (picocli.CommandLine) cl.invoke(null);
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      cmd.setOut(new PrintWriter(out));
      cmd.setErr(new PrintWriter(err));
      int code = cmd.execute("run", graph.toString(), "--feed", "x=" + npy, "--fetch", "y");
      String e = err.toString().strip();
      String d = "exit " + code + ", stderr: " + e;
      if (code == 0) {
        return Verdict.handled("ran: " + out.toString().strip());
      }
      if (e.lines().count() != 1) {
        return Verdict.failed("kiln printed " + e.lines().count() + " lines, not one", d);
      }
      if (e.contains("Exception") || e.contains("\tat ")) {
        return Verdict.failed("kiln printed an exception", d);
      }
      // A reader error names the file; a feed error (the file read, but its dtype or shape does not fit) names x.
      if (!e.contains(npy.getFileName().toString()) && !e.contains("'x'")) {
        return Verdict.failed("kiln's message names neither the file nor the fed placeholder", d);
      }
      return Verdict.handled(d);
    } catch (Throwable t) {
      Throwable e = ReaderProbe.unwrapReflection(t);
      return Verdict.failed("kiln run threw " + e.getClass().getSimpleName(), Classify.describe(e));
    }
  }

  private List<byte[]> bases() throws java.io.IOException {
    List<byte[]> out = new ArrayList<>();
    Path examples = Campaign.root().resolve("examples/graphs");
    for (String name : List.of("x.npy", "y.npy")) {
      Path p = examples.resolve(name);
      if (Files.exists(p)) {
        out.add(Files.readAllBytes(p));
      }
    }
    int[][] shapes = {{}, {0}, {5}, {3, 4}, {2, 3, 4}, {1, 1}, {7}};
    for (int d = 0; d < DESCR.length; d++) {
      for (int[] s : shapes) {
        for (int version = 1; version <= 3; version++) {
          out.add(encode(d, s, version, rnd));
        }
      }
    }
    return out;
  }

  /** An .npy file written here, independently of the reader under test. */
  static byte[] encode(int dtype, int[] shape, int version, Random rnd) {
    StringBuilder sh = new StringBuilder("(");
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      sh.append(i > 0 ? ", " : "").append(shape[i]);
      n *= shape[i];
    }
    sh.append(shape.length == 1 ? ",)" : ")");
    return withHeader("{'descr': '" + DESCR[dtype] + "', 'fortran_order': False, 'shape': " + sh + ", }", version,
        randomBytes((int) n * SIZE[dtype], rnd, dtype == 4));
  }

  static byte[] withHeader(String dict, int version, byte[] data) {
    int prefix = version == 1 ? 10 : 12;
    int total = prefix + dict.length() + 1;
    String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
    byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(prefix + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
    if (version == 1) {
      b.putShort((short) h.length);
    } else {
      b.putInt(h.length);
    }
    return b.put(h).put(data).array();
  }

  private static byte[] randomBytes(int n, Random rnd, boolean bool) {
    byte[] d = new byte[n];
    for (int i = 0; i < n; i++) {
      d[i] = bool ? (byte) rnd.nextInt(2) : (byte) rnd.nextInt(256);
    }
    return d;
  }

  private byte[] mutant(byte[] base, String[] what) {
    byte[] b = base.clone();
    int headerEnd = Math.min(b.length, 128);
    switch (rnd.nextInt(12)) {
      case 0, 1 -> {
        what[0] = "header byte flips";
        for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
          int i = rnd.nextInt(headerEnd);
          b[i] ^= (byte) (1 << rnd.nextInt(8));
        }
      }
      case 2 -> {
        what[0] = "byte flips anywhere";
        for (int k = 1 + rnd.nextInt(4); k > 0; k--) {
          int i = rnd.nextInt(b.length);
          b[i] ^= (byte) (1 << rnd.nextInt(8));
        }
      }
      case 3 -> {
        int cut = rnd.nextInt(b.length);
        what[0] = "truncated to " + cut;
        b = java.util.Arrays.copyOf(b, cut);
      }
      case 4 -> {
        what[0] = "garbage appended";
        byte[] extra = randomBytes(1 + rnd.nextInt(40), rnd, false);
        byte[] c = java.util.Arrays.copyOf(b, b.length + extra.length);
        System.arraycopy(extra, 0, c, b.length, extra.length);
        b = c;
      }
      case 5, 6 -> {
        String shape = BAD_SHAPES.get(rnd.nextInt(BAD_SHAPES.size()));
        what[0] = "header lies: shape " + shape;
        b = withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", 1 + rnd.nextInt(3),
            randomBytes(rnd.nextInt(64) * 4, rnd, false));
      }
      case 7 -> {
        String d = BAD_DESCR.get(rnd.nextInt(BAD_DESCR.size()));
        what[0] = "descr '" + d + "'";
        b = withHeader("{'descr': '" + d + "', 'fortran_order': False, 'shape': (3,), }", 1, randomBytes(12, rnd, false));
      }
      case 8 -> {
        int len = List.of(0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 1 << 30).get(rnd.nextInt(5));
        what[0] = "v2 header length 0x" + Integer.toHexString(len);
        b = withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 2, randomBytes(12, rnd, false));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, len);
      }
      case 9 -> {
        what[0] = "v1 header length 0xffff";
        b[8] = (byte) 0xff;
        b[9] = (byte) 0xff;
      }
      case 10 -> {
        what[0] = "fortran_order True / dict garbage";
        String dict = rnd.nextBoolean() ? "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }"
            : "{'descr': '<f4', 'shape': (3,), 'fortran_order': False, 'descr': '<f8', }";
        b = withHeader(dict, 1, randomBytes(rnd.nextBoolean() ? 12 : 24, rnd, false));
      }
      default -> {
        what[0] = "version byte " + (b.length > 6 ? "changed" : "absent");
        if (b.length > 7) {
          b[6] = (byte) rnd.nextInt(6);
          b[7] = (byte) rnd.nextInt(3);
        }
      }
    }
    return b;
  }
}
