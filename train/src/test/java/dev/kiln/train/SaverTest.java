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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
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

  private List<Path> listDir() {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
