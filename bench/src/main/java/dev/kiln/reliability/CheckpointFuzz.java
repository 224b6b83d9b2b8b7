package dev.kiln.reliability;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import dev.kiln.train.CheckpointException;
import dev.kiln.train.Saver;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Crafted and mutated checkpoints restored into a Session whose variables hold a sentinel state.
 * Handled: a {@link CheckpointException} naming the file with every variable unchanged, or, for the
 * few crafted files that are valid, exactly the values written. The files are built here from the
 * format document (docs/checkpoint-format.md), independently of the code under test.
 */
final class CheckpointFuzz {
  private static final int[] CODE_SIZE = {4, 8, 4, 8, 1};

  /** A graph with one variable of each dtype, and the Session restores go into. */
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final List<Variable> vars = new ArrayList<>();
  private final Session s;
  private final Map<Variable, Tensor> sentinel = new LinkedHashMap<>();
  private final Random rnd = new Random(909);
  private final Path dir;

  /** One variable entry as the file holds it. */
  private record Entry(String name, int code, int[] dims, byte[] values) {}

  CheckpointFuzz(Path dir) {
    this.dir = dir;
    vars.add(tf.variable("linear/weight", tf.constant(Tensor.of(new float[12], 3, 4))));
    vars.add(tf.variable("d", tf.constant(Tensor.of(new double[2], 2))));
    vars.add(tf.variable("i", tf.constant(Tensor.of(new int[5], 5))));
    vars.add(tf.variable("step", tf.constant(Tensor.scalar(0L))));
    vars.add(tf.variable("mask", tf.constant(Tensor.of(new boolean[3], 3))));
    s = new Session(g);
    s.run(tf.globalVariablesInitializer());
    sentinel.put(vars.get(0), Tensor.of(new float[] {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, -1, -2}, 3, 4));
    sentinel.put(vars.get(1), Tensor.of(new double[] {Math.PI, Math.E}, 2));
    sentinel.put(vars.get(2), Tensor.of(new int[] {5, 4, 3, 2, 1}, 5));
    sentinel.put(vars.get(3), Tensor.scalar(123456789L));
    sentinel.put(vars.get(4), Tensor.of(new boolean[] {true, false, true}, 3));
  }

  void run(Check check, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      String[] what = new String[1];
      List<Entry> entries = validEntries();
      byte[] bytes = mutant(entries, what);
      Path f = dir.resolve("c" + i + ".ckpt");
      Files.write(f, bytes);
      check.record("checkpoint " + i + " (" + what[0] + ", " + bytes.length + " bytes)",
          restore(f, what[0].startsWith("valid") ? entries : null));
      Files.delete(f);
    }
    Path big = dir.resolve("zeros-3GiB.ckpt");
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.setLength(3L << 30);
    }
    check.record("checkpoint: a 3 GiB file of zeros", restore(big, null));
    Files.delete(big);
    if (Files.exists(Path.of("/dev/zero"))) {
      check.record("checkpoint: /dev/zero", restore(Path.of("/dev/zero"), null));
    }
    check.record("checkpoint: a file that does not exist", restore(dir.resolve("missing.ckpt"), null));
    s.close();
  }

  /** Restores {@code f}; {@code valid} holds what a valid file's variables must read afterwards, else null. */
  private Verdict restore(Path f, List<Entry> valid) {
    s.assignVariables(sentinel);
    long before = ReaderProbe.allocated();
    Throwable thrown = null;
    try {
      Saver.restore(s, f);
    } catch (Throwable t) {
      thrown = t;
    }
    long used = ReaderProbe.allocated() - before;
    String changed = changedVariables(valid);
    if (thrown == null) {
      if (valid == null) {
        return Verdict.failed("restored an invalid checkpoint (silent success)", changed == null ? "variables unchanged" : changed);
      }
      return changed == null ? Verdict.handled("valid file restored with the values written")
          : Verdict.failed("valid file restored wrong values", changed);
    }
    if (changed != null) {
      return Verdict.failed("failed restore changed variables (half-applied state)", changed + "; threw " + Classify.describe(thrown));
    }
    if (valid != null) {
      return Verdict.failed("valid checkpoint rejected", Classify.describe(thrown));
    }
    Verdict kind = Classify.kind(thrown);
    if (!kind.handled()) {
      return kind;
    }
    if (!(thrown instanceof CheckpointException) && !(thrown instanceof java.nio.file.NoSuchFileException)) {
      return Verdict.failed("not a CheckpointException: " + thrown.getClass().getSimpleName(), Classify.describe(thrown));
    }
    kind = Classify.readerException(thrown, f.getFileName().toString());
    if (!kind.handled()) {
      return kind;
    }
    long size;
    try {
      size = Files.size(f);
    } catch (java.io.IOException e) {
      size = 0;
    }
    if (used > ReaderProbe.ALLOCATION_FLOOR && used > ReaderProbe.ALLOCATION_FACTOR * Math.max(1, size)) {
      return Verdict.failed("allocated far more than the file holds", ReaderProbe.mb(used) + " for a " + size + "-byte file");
    }
    return kind;
  }

  /** Null when the variables hold the sentinel (or, for a valid file, its values); else the first difference. */
  private String changedVariables(List<Entry> valid) {
    for (int k = 0; k < vars.size(); k++) {
      Variable v = vars.get(k);
      Tensor want = valid == null ? sentinel.get(v) : decode(valid.get(k), v);
      Tensor got = s.variableValue(v);
      if (!got.equals(want)) {
        return "variable '" + v.name() + "' is " + got + ", expected " + want;
      }
    }
    return null;
  }

  private static Tensor decode(Entry e, Variable v) {
    ByteBuffer b = ByteBuffer.wrap(e.values());
    int n = e.values().length / CODE_SIZE[e.code()];
    return switch (e.code()) {
      case 0 -> { float[] a = new float[n]; b.asFloatBuffer().get(a); yield Tensor.of(a, e.dims()); }
      case 1 -> { double[] a = new double[n]; b.asDoubleBuffer().get(a); yield Tensor.of(a, e.dims()); }
      case 2 -> { int[] a = new int[n]; b.asIntBuffer().get(a); yield Tensor.of(a, e.dims()); }
      case 3 -> { long[] a = new long[n]; b.asLongBuffer().get(a); yield Tensor.of(a, e.dims()); }
      default -> {
        boolean[] a = new boolean[n];
        for (int i = 0; i < n; i++) {
          a[i] = e.values()[i] != 0;
        }
        yield Tensor.of(a, e.dims());
      }
    };
  }

  private List<Entry> validEntries() {
    List<Entry> out = new ArrayList<>();
    int[][] dims = {{3, 4}, {2}, {5}, {}, {3}};
    String[] names = {"linear/weight", "d", "i", "step", "mask"};
    for (int k = 0; k < 5; k++) {
      int n = Arrays.stream(dims[k]).reduce(1, (a, b) -> a * b);
      byte[] values = new byte[n * CODE_SIZE[k]];
      rnd.nextBytes(values);
      if (k == 4) {
        for (int i = 0; i < values.length; i++) {
          values[i] = (byte) (values[i] & 1);
        }
      }
      if (k == 0 || k == 1) {
        // random bits may spell NaNs, which Tensor.equals compares bitwise anyway; keep them finite for reading
        ByteBuffer b = ByteBuffer.wrap(values);
        for (int i = 0; i < n; i++) {
          if (k == 0) {
            b.putFloat(i * 4, rnd.nextFloat());
          } else {
            b.putDouble(i * 8, rnd.nextDouble());
          }
        }
      }
      out.add(new Entry(names[k], k, dims[k], values));
    }
    return out;
  }

  static byte[] file(List<Entry> entries, int version, Long declaredLength, boolean fixCrc, byte[] trailing) {
    ByteBuffer p = ByteBuffer.allocate(1 << 16);
    p.putInt(entries.size());
    for (Entry e : entries) {
      byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
      p.putShort((short) name.length).put(name).put((byte) e.code()).put((byte) e.dims().length);
      for (int d : e.dims()) {
        p.putInt(d);
      }
      p.put(e.values());
    }
    p.put(trailing);
    byte[] payload = Arrays.copyOf(p.array(), p.position());
    CRC32 crc = new CRC32();
    crc.update(payload);
    ByteBuffer f = ByteBuffer.allocate(24 + payload.length);
    f.put("KILNCKPT".getBytes(StandardCharsets.US_ASCII)).putInt(version)
        .putLong(declaredLength == null ? payload.length : declaredLength)
        .putInt(fixCrc ? (int) crc.getValue() : (int) crc.getValue() ^ 0x5a5a5a5a).put(payload);
    return f.array();
  }

  private byte[] mutant(List<Entry> entries, String[] what) {
    List<Entry> e = new ArrayList<>(entries);
    byte[] none = new byte[0];
    int pick = rnd.nextInt(20);
    switch (pick) {
      case 0 -> {
        what[0] = "valid, new values";
        return file(e, 1, null, true, none);
      }
      case 1, 2, 3 -> {
        byte[] b = file(e, 1, null, true, none);
        int flips = 1 + rnd.nextInt(3);
        for (int k = 0; k < flips; k++) {
          int i = rnd.nextInt(b.length);
          b[i] ^= (byte) (1 << rnd.nextInt(8));
        }
        what[0] = flips + " byte flip(s)";
        return b;
      }
      case 4 -> {
        byte[] b = file(e, 1, null, true, none);
        int cut = rnd.nextInt(b.length);
        what[0] = "truncated to " + cut;
        return Arrays.copyOf(b, cut);
      }
      case 5 -> {
        what[0] = "trailing bytes in the payload (CRC fixed)";
        return file(e, 1, null, true, new byte[] {1, 2, 3});
      }
      case 6 -> {
        int v = List.of(0, 2, -1, 0x01000000).get(rnd.nextInt(4));
        what[0] = "version " + v;
        return file(e, v, null, true, none);
      }
      case 7 -> {
        long len = List.of(-1L, 1L << 62, 0L, 4L, (long) Integer.MAX_VALUE + 1).get(rnd.nextInt(5));
        what[0] = "declared payload length " + len;
        return file(e, 1, len, true, none);
      }
      case 8 -> {
        what[0] = "checksum wrong";
        return file(e, 1, null, false, none);
      }
      case 9 -> {
        int k = rnd.nextInt(e.size());
        int code = 5 + rnd.nextInt(251);
        what[0] = "dtype code " + code + " for '" + e.get(k).name() + "' (CRC fixed)";
        e.set(k, new Entry(e.get(k).name(), code, e.get(k).dims(), e.get(k).values()));
        return file(e, 1, null, true, none);
      }
      case 10, 11 -> {
        int[][] lying = {{65536, 65536, 65536, 65536}, {1 << 21, 1 << 21, 1 << 21}, {Integer.MAX_VALUE},
            {-1}, {0x7fffffff, 2}, {65536, 65536}, {0, 65536, 65536, 65536, 65536}, {3, 5}, {4, 3}, {}};
        int[] dims = lying[rnd.nextInt(lying.length)];
        what[0] = "'linear/weight' dims " + Arrays.toString(dims) + " (CRC fixed)";
        e.set(0, new Entry("linear/weight", 0, dims, new byte[0]));
        return file(e, 1, null, true, none);
      }
      case 12 -> {
        what[0] = "variable missing (CRC fixed)";
        e.remove(rnd.nextInt(e.size()));
        return file(e, 1, null, true, none);
      }
      case 13 -> {
        what[0] = "extra variable 'ghost' (CRC fixed)";
        e.add(new Entry("ghost", 0, new int[] {1}, new byte[4]));
        return file(e, 1, null, true, none);
      }
      case 14 -> {
        what[0] = "variable duplicated (CRC fixed)";
        e.add(e.get(rnd.nextInt(e.size())));
        return file(e, 1, null, true, none);
      }
      case 15 -> {
        what[0] = "name not UTF-8 (CRC fixed)";
        e.set(1, new Entry("\u00ff\u00fe", 1, new int[] {2}, new byte[16]));
        return corruptName(file(e, 1, null, true, none));
      }
      case 16 -> {
        int k = rnd.nextInt(e.size());
        int code = (e.get(k).code() + 1 + rnd.nextInt(4)) % 5;
        int n = Arrays.stream(e.get(k).dims()).reduce(1, (a, b) -> a * b);
        what[0] = "'" + e.get(k).name() + "' stored with dtype code " + code + " (CRC fixed)";
        e.set(k, new Entry(e.get(k).name(), code, e.get(k).dims(), new byte[n * CODE_SIZE[code]]));
        return file(e, 1, null, true, none);
      }
      case 17 -> {
        what[0] = "rank 255 with no dims (CRC fixed)";
        byte[] b = file(e, 1, null, true, none);
        // The rank byte of the first entry: 24 header + 4 count + 2 + 13 name + 1 code.
        b[24 + 4 + 2 + 13 + 1] = (byte) 255;
        return fixCrc(b);
      }
      case 18 -> {
        what[0] = "variable count " + (rnd.nextBoolean() ? "-1" : "2^31-1") + " (CRC fixed)";
        byte[] b = file(e, 1, null, true, none);
        ByteBuffer.wrap(b).putInt(24, rnd.nextBoolean() ? -1 : Integer.MAX_VALUE);
        return fixCrc(b);
      }
      default -> {
        what[0] = "name length 65535 (CRC fixed)";
        byte[] b = file(e, 1, null, true, none);
        ByteBuffer.wrap(b).putShort(28, (short) 0xffff);
        return fixCrc(b);
      }
    }
  }

  /** Replaces the UTF-8 of "\u00ff\u00fe" (c3 bf c3 be) by bytes that are not UTF-8 (ff fe ff fe). */
  private static byte[] corruptName(byte[] b) {
    for (int i = 24; i + 3 < b.length; i++) {
      if (b[i] == (byte) 0xc3 && b[i + 1] == (byte) 0xbf && b[i + 2] == (byte) 0xc3 && b[i + 3] == (byte) 0xbe) {
        b[i] = (byte) 0xff;
        b[i + 1] = (byte) 0xfe;
        b[i + 2] = (byte) 0xff;
        b[i + 3] = (byte) 0xfe;
        break;
      }
    }
    return fixCrc(b);
  }

  private static byte[] fixCrc(byte[] b) {
    CRC32 crc = new CRC32();
    crc.update(b, 24, b.length - 24);
    ByteBuffer.wrap(b).putInt(20, (int) crc.getValue());
    return b;
  }
}
