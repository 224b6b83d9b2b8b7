package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** {@link Session#variableValues}: several variables read as one state, as a run would see them. */
class SessionVariableValuesTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  @Test
  void valuesReadWhileThreeThreadsAssignAreOneState() throws Exception {
    Variable a = tf.variable("a", tf.fill(Shape.of(256), tf.constant(0L)));
    Variable b = tf.variable("b", tf.fill(Shape.of(256), tf.constant(0L)));
    Operation init = tf.globalVariablesInitializer();
    Operation step = tf.group(tf.assignAdd(a, tf.fill(Shape.of(256), tf.constant(1L))).op(),
        tf.assignAdd(b, tf.fill(Shape.of(256), tf.constant(1L))).op());
    List<String> mixed = new ArrayList<>();
    try (Session s = new Session(g)) {
      s.run(init);
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(3);
      List<Future<?>> trainers = new ArrayList<>();
      long first = -1;
      long last = -1;
      try {
        for (int t = 0; t < 3; t++) {
          trainers.add(pool.submit(() -> {
            while (!stop.get()) {
              s.run(step);
            }
          }));
        }
        // 2,000 reads, then more (up to 20 s) until the trainers have moved on: on a loaded machine
        // the reads can all land in one stretch where no trainer is scheduled.
        long deadline = System.nanoTime() + 20_000_000_000L;
        for (int i = 0; i < 2_000 || (last == first && System.nanoTime() < deadline); i++) {
          Map<Variable, Tensor> values = s.variableValues(List.of(a, b));
          long[] av = values.get(a).toLongArray();
          long[] bv = values.get(b).toLongArray();
          long[] expected = new long[256];
          Arrays.fill(expected, av[0]);
          if (!Arrays.equals(expected, av) || !Arrays.equals(expected, bv)) {
            mixed.add("read " + i + ": a from " + av[0] + ", b from " + bv[0]);
          }
          first = first < 0 ? av[0] : first;
          last = av[0];
        }
      } finally {
        stop.set(true);
        pool.shutdown();
      }
      for (Future<?> f : trainers) {
        f.get();
      }
      assertTrue(last > first, "runs went on while the values were read: " + first + " .. " + last);
    }
    assertTrue(mixed.isEmpty(), mixed.size() + " reads mix two states, e.g. " + mixed.subList(0, Math.min(3, mixed.size())));
  }

  @Test
  void valuesAreCopiesInTheOrderAsked() {
    Variable w = tf.variable("w", tf.constant(new float[] {1, 2}));
    Variable n = tf.variable("n", tf.constant(7));
    Operation init = tf.globalVariablesInitializer();
    Operation bump = tf.assignAdd(w, tf.constant(new float[] {10, 10})).op();
    try (Session s = new Session(g)) {
      s.run(init);
      Map<Variable, Tensor> values = s.variableValues(List.of(n, w));
      assertEquals(List.of(n, w), List.copyOf(values.keySet()));
      s.run(bump);
      assertArrayEquals(new float[] {1, 2}, values.get(w).toFloatArray()); // not changed by the later run
      assertEquals(Tensor.scalar(7), values.get(n));
      assertArrayEquals(new float[] {11, 12}, s.variableValues(g.variables()).get(w).toFloatArray());
      assertThrows(UnsupportedOperationException.class, () -> values.remove(n));
      assertEquals(Map.of(), s.variableValues(List.of()));
    }
  }

  @Test
  void badArgumentsAndStatesAreNamed() {
    Variable w = tf.variable("w", tf.constant(1f));
    Variable u = tf.variable("u", tf.constant(2f));
    Graph other = new Graph();
    Variable foreign = Ops.create(other).variable("v", Ops.create(other).constant(1f));
    Session s = new Session(g);
    s.run(g.operation("w/Assign"));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.variableValues(List.of(w, u)));
    assertEquals("Variable 'u' is uninitialized: run its initializer first", e.getMessage());
    IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> s.variableValues(List.of(w, foreign)));
    assertEquals("variableValues: variable 'v' belongs to another graph than this Session's", f.getMessage());
    NullPointerException n = assertThrows(NullPointerException.class, () -> s.variableValues(Arrays.asList(w, null)));
    assertEquals("variableValues: a variable is null", n.getMessage());
    NullPointerException c = assertThrows(NullPointerException.class, () -> s.variableValues(null));
    assertEquals("variableValues: the collection of variables is null", c.getMessage());
    s.close();
    IllegalStateException closed = assertThrows(IllegalStateException.class, () -> s.variableValues(List.of(w)));
    assertEquals("Session is closed", closed.getMessage());
  }
}
