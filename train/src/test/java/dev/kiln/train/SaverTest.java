package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaverTest {
  @TempDir Path dir;

  /** A small model with an optimizer: weights, Adam slots and an i64 step count. */
  private record Model(Graph graph, Operation init, Operation update, Output grad) {
    static Model build(int width, String name, DType dtype) {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Variable w = tf.variable(name, tf.randomNormal(Shape.of(width), dtype, 3));
      Variable b = tf.variable("b", tf.fill(Shape.of(2, 2), tf.constant(0.5, dtype)));
      Output grad = tf.placeholder("grad", dtype, Shape.of(width));
      Operation update = new Adam(0.1).applyGradients(List.of(grad, tf.onesLike(b)), List.of(w, b));
      return new Model(g, tf.globalVariablesInitializer(), update, grad);
    }

    static Model build() {
      return build(3, "w", DType.FLOAT32);
    }

    void train(Session s, int steps) {
      for (int i = 0; i < steps; i++) {
        s.runner().feed(grad, Tensor.of(new float[] {1f, -2f, 0.5f + i}, 3)).addTarget(update).run();
      }
    }
  }

  private static Map<String, Tensor> values(Session s, Graph g) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Variable v : g.variables()) {
      m.put(v.name(), s.variableValue(v));
    }
    return m;
  }

  @Test
  void roundTripRestoresWeightsAndSlotsIntoAFreshSession() throws IOException {
    Model m = Model.build();
    Path ckpt = dir.resolve("model.ckpt");
    Map<String, Tensor> saved;
    try (Session s = new Session(m.graph())) {
      s.run(m.init());
      m.train(s, 3);
      saved = values(s, m.graph());
      Saver.save(s, ckpt);
    }
    assertEquals(List.of("w", "b", "adam/step", "adam/w/m", "adam/w/v", "adam/b/m", "adam/b/v"),
        List.copyOf(saved.keySet()));
    assertEquals(3L, saved.get("adam/step").longValue());
    try (Session fresh = new Session(m.graph())) {
      Saver.restore(fresh, ckpt);
      assertEquals(saved, values(fresh, m.graph()));
      // training continues from the restored state exactly as it would have
      m.train(fresh, 1);
      assertEquals(4L, fresh.variableValue((Variable) m.graph().output("adam/step")).longValue());
    }
    assertEquals(List.of(ckpt), listDir(), "no temporary file is left behind");
  }

  @Test
  void bytesInMemoryRoundTripAndMatchTheFile() throws IOException {
    Model m = Model.build();
    Path ckpt = dir.resolve("model.ckpt");
    byte[] bytes;
    Map<String, Tensor> saved;
    try (Session s = new Session(m.graph())) {
      s.run(m.init());
      m.train(s, 3);
      saved = values(s, m.graph());
      bytes = Saver.toBytes(s);
      Saver.save(s, ckpt);
    }
    assertArrayEquals(Files.readAllBytes(ckpt), bytes);
    try (Session fresh = new Session(m.graph())) {
      Saver.restore(fresh, bytes, "sent");
      assertEquals(saved, values(fresh, m.graph()));
    }
    Path written = dir.resolve("written.ckpt");
    Saver.write(bytes, written);
    try (Session fresh = new Session(m.graph())) {
      Saver.restore(fresh, written);
      assertEquals(saved, values(fresh, m.graph()));
    }
    byte[] corrupt = bytes.clone();
    corrupt[corrupt.length - 1] ^= 1;
    CheckpointException e = assertThrows(CheckpointException.class, () -> Saver.write(corrupt, dir.resolve("bad.ckpt")));
    assertTrue(e.getMessage().contains("in-memory checkpoint"), e.getMessage());
    assertTrue(Files.notExists(dir.resolve("bad.ckpt")));
    try (Session fresh = new Session(Model.build(4, "w", DType.FLOAT32).graph())) {
      CheckpointException m2 = assertThrows(CheckpointException.class, () -> Saver.restore(fresh, bytes, "sent"));
      assertTrue(m2.getMessage().contains("'sent'"), m2.getMessage());
    }
  }

  @Test
  void crashBetweenWriteAndRenameLeavesThePreviousCheckpoint() throws IOException {
    Model m = Model.build();
    Path ckpt = dir.resolve("model.ckpt");
    try (Session s = new Session(m.graph())) {
      s.run(m.init());
      m.train(s, 1);
      Saver.save(s, ckpt);
      Map<String, Tensor> first = values(s, m.graph());
      byte[] firstBytes = Files.readAllBytes(ckpt);
      m.train(s, 2);
      var crash = new IllegalStateException("simulated crash");
      var e = assertThrows(IllegalStateException.class, () -> Saver.save(s, ckpt, () -> {
        // the new checkpoint is fully written to its temporary file at this point
        assertEquals(2, listDir().size());
        throw crash;
      }));
      assertEquals(crash, e);
      assertArrayEquals(firstBytes, Files.readAllBytes(ckpt));
      try (Session fresh = new Session(m.graph())) {
        Saver.restore(fresh, ckpt);
        assertEquals(first, values(fresh, m.graph()));
      }
    }
  }

  /** Restore fails with {@code message}, leaving every variable of an initialized session as it was. */
  private void assertRestoreFails(Model into, Path ckpt, String message) throws IOException {
    try (Session s = new Session(into.graph())) {
      s.run(into.init());
      Map<String, Tensor> before = values(s, into.graph());
      var e = assertThrows(CheckpointException.class, () -> Saver.restore(s, ckpt));
      assertEquals(message, e.getMessage());
      assertEquals(before, values(s, into.graph()));
    }
  }

  private Path savedAfterTraining(Model m) throws IOException {
    Path ckpt = dir.resolve("model.ckpt");
    try (Session s = new Session(m.graph())) {
      s.run(m.init());
      m.train(s, 2);
      Saver.save(s, ckpt);
    }
    return ckpt;
  }

  @Test
  void corruptedByteIsDetectedAndNoVariableChanges() throws IOException {
    Model m = Model.build();
    Path ckpt = savedAfterTraining(m);
    byte[] bytes = Files.readAllBytes(ckpt);
    bytes[bytes.length - 5] ^= 0x01;
    Files.write(ckpt, bytes);
    try (Session s = new Session(m.graph())) {
      s.run(m.init());
      Map<String, Tensor> before = values(s, m.graph());
      var e = assertThrows(CheckpointException.class, () -> Saver.restore(s, ckpt));
      assertTrue(e.getMessage().startsWith("checkpoint '" + ckpt + "' is corrupted: checksum mismatch"),
          e.getMessage());
      assertEquals(before, values(s, m.graph()));
    }
  }

  @Test
  void truncatedFileIsDetected() throws IOException {
    Model m = Model.build();
    Path ckpt = savedAfterTraining(m);
    byte[] bytes = Files.readAllBytes(ckpt);
    Files.write(ckpt, java.util.Arrays.copyOf(bytes, bytes.length - 10));
    assertRestoreFails(m, ckpt, "checkpoint '" + ckpt + "' is truncated: the header declares "
        + (bytes.length - 24) + " payload bytes, the file holds " + (bytes.length - 34));
  }

  @Test
  void mismatchedGraphsAreRejectedNamingTheVariable() throws IOException {
    Path ckpt = savedAfterTraining(Model.build());
    assertRestoreFails(Model.build(4, "w", DType.FLOAT32), ckpt,
        "variable 'w' has shape [4] in the graph but [3] in checkpoint '" + ckpt + "'");
    assertRestoreFails(Model.build(3, "weights", DType.FLOAT32), ckpt,
        "checkpoint '" + ckpt + "' has no value for variable 'weights'");
    assertRestoreFails(Model.build(3, "w", DType.FLOAT64), ckpt,
        "variable 'w' is f64 in the graph but f32 in checkpoint '" + ckpt + "'");
    // a graph lacking one of the checkpoint's variables (here: no optimizer slots)
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    tf.variable("w", tf.randomNormal(Shape.of(3), 1));
    tf.variable("b", tf.fill(Shape.of(2, 2), tf.constant(0f)));
    Operation init = tf.globalVariablesInitializer();
    assertRestoreFails(new Model(g, init, init, null), ckpt,
        "checkpoint '" + ckpt + "' holds variable 'adam/step', which the graph does not have");
  }

  @Test
  void notACheckpoint() throws IOException {
    Path p = dir.resolve("notes.txt");
    Files.writeString(p, "hello, this is not a checkpoint");
    assertRestoreFails(Model.build(), p, "checkpoint '" + p + "' is not a Kiln checkpoint (bad magic number)");
  }

  @Test
  void hugeFilesAreCheckedAgainstTheirHeaderWithoutBeingRead() throws IOException {
    // sparse 3 GiB files: reading either whole would need more than one Java array
    long size = 3L << 30;
    Path zeros = dir.resolve("zeros.ckpt");
    try (RandomAccessFile f = new RandomAccessFile(zeros.toFile(), "rw")) {
      f.setLength(size);
    }
    assertRestoreFails(Model.build(), zeros, "checkpoint '" + zeros + "' is not a Kiln checkpoint (bad magic number)");
    Path huge = dir.resolve("huge.ckpt");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.write(CheckpointFormat.MAGIC);
      f.writeInt(1);
      f.writeLong(size - 24);
      f.setLength(size);
    }
    assertRestoreFails(Model.build(), huge, "checkpoint '" + huge + "' is corrupted: the header declares a payload of "
        + (size - 24) + " bytes, more than the " + CheckpointFormat.MAX_PAYLOAD_BYTES + " a version-1 checkpoint holds");
    Path small = dir.resolve("small.ckpt");
    try (RandomAccessFile f = new RandomAccessFile(small.toFile(), "rw")) {
      f.write(CheckpointFormat.MAGIC);
      f.writeInt(1);
      f.writeLong(100);
      f.setLength(size);
    }
    assertRestoreFails(Model.build(), small, "checkpoint '" + small + "' is corrupted: " + (size - 124)
        + " unexpected bytes after the 100-byte payload");
  }

  @Test
  void endlessDeviceIsRejectedAtItsHeader() throws IOException {
    Path zero = Path.of("/dev/zero");
    Assumptions.assumeTrue(Files.isReadable(zero), "no /dev/zero here");
    assertRestoreFails(Model.build(), zero, "checkpoint '/dev/zero' is not a Kiln checkpoint (bad magic number)");
  }

  @Test
  void craftedShapeNamesFileVariableAndShape() throws IOException {
    // w: f32 of shape [65536,65536,65536,65536] and no values; the element count 2^64 wraps to 0 in a long
    ByteBuffer p = ByteBuffer.allocate(4 + 2 + 1 + 2 + 16).putInt(1).putShort((short) 1).put((byte) 'w')
        .put((byte) 0).put((byte) 4).putInt(65536).putInt(65536).putInt(65536).putInt(65536);
    CRC32 crc = new CRC32();
    crc.update(p.array());
    Path ckpt = dir.resolve("crafted.ckpt");
    Files.write(ckpt, ByteBuffer.allocate(24 + p.capacity()).put(CheckpointFormat.MAGIC).putInt(1)
        .putLong(p.capacity()).putInt((int) crc.getValue()).put(p.array()).array());
    assertRestoreFails(Model.build(), ckpt, "checkpoint '" + ckpt + "' is malformed: variable 'w' of shape "
        + "[65536,65536,65536,65536] has more elements than a tensor can hold");
  }

  /** Starts a JVM that saves to {@code ckpt} and stops before the rename; returns once the temporary file is written. */
  private static Process startSaveThatWillBeKilled(Path ckpt) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), SaveUntilKilled.class.getName(), ckpt.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"written".equals(line)) {
      p.destroyForcibly();
      throw new AssertionError("the saving child process said " + line);
    }
    return p;
  }

  private List<Path> tempFilesOf(Path ckpt) {
    String prefix = ckpt.getFileName() + ".";
    return listDir().stream().filter(p -> {
      String n = p.getFileName().toString();
      return n.startsWith(prefix) && n.endsWith(".tmp") && n.substring(prefix.length(), n.length() - 4).matches("\\d+");
    }).toList();
  }

  @Test
  void tempFilesOfKilledSavesAreRemovedButNotThoseOfASaveInProgress() throws Exception {
    Model m = Model.build();
    Path ckpt = savedAfterTraining(m);
    // temporary files of other checkpoints, and a file of another name, stay whatever happens
    Path otherCheckpoints = Files.writeString(dir.resolve("other.ckpt.123.tmp"), "x");
    Path longerName = Files.writeString(dir.resolve("model.ckpt.5.77.tmp"), "x");
    Path notATemp = Files.writeString(dir.resolve("model.ckpt.notes.tmp"), "x");
    Process child = startSaveThatWillBeKilled(ckpt);
    try {
      List<Path> childTemp = tempFilesOf(ckpt);
      assertEquals(1, childTemp.size(), listDir().toString());
      // a save and a restore in this process while the child's save is in progress leave its file alone
      try (Session s = new Session(m.graph())) {
        s.run(m.init());
        Saver.save(s, ckpt);
        Saver.restore(s, ckpt);
      }
      assertEquals(childTemp, tempFilesOf(ckpt));
      child.destroyForcibly().waitFor();
      assertEquals(childTemp, tempFilesOf(ckpt), "a killed save leaves its temporary file");
      try (Session s = new Session(m.graph())) {
        Saver.restore(s, ckpt);
      }
      assertEquals(List.of(), tempFilesOf(ckpt), "a restore of the same path removes it");
    } finally {
      child.destroyForcibly();
    }
    Process second = startSaveThatWillBeKilled(ckpt);
    second.destroyForcibly().waitFor();
    assertEquals(1, tempFilesOf(ckpt).size());
    try (Session s = new Session(m.graph())) {
      s.run(m.init());
      Saver.save(s, ckpt);
    }
    assertEquals(List.of(), tempFilesOf(ckpt), "a save of the same path removes it");
    assertEquals(List.of(ckpt, longerName, notATemp, otherCheckpoints), listDir());
  }

  @Test
  void aSaveOrRestoreDuringAnotherSaveInThisProcessLeavesItsFileAlone() throws IOException {
    Model m = Model.build();
    Path ckpt = savedAfterTraining(m);
    try (Session s = new Session(m.graph()); Session other = new Session(m.graph())) {
      s.run(m.init());
      m.train(s, 1);
      Map<String, Tensor> expected = values(s, m.graph());
      Saver.save(s, ckpt, () -> {
        try {
          List<Path> inProgress = tempFilesOf(ckpt);
          assertEquals(1, inProgress.size());
          Saver.restore(other, ckpt);
          Saver.save(other, ckpt);
          assertEquals(inProgress, tempFilesOf(ckpt));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (Session fresh = new Session(m.graph())) {
        Saver.restore(fresh, ckpt);
        assertEquals(expected, values(fresh, m.graph()));
      }
    }
    assertEquals(List.of(ckpt), listDir());
  }

  private List<Path> listDir() {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
