package dev.kiln.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints saved while other threads train hold a state the variables really had. */
class SaverConcurrencyTest {
  @TempDir Path dir;

  @Test
  void checkpointsSavedWhileThreeThreadsTrainAreConsistent() throws Exception {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable a = tf.variable("a", tf.constant(0L));
    Variable b = tf.variable("b", tf.constant(0L));
    Operation init = tf.globalVariablesInitializer();
    // Every run adds 1 to both: in every state a run can leave, a == b.
    Operation step = tf.group(tf.assignAdd(a, tf.constant(1L)).op(), tf.assignAdd(b, tf.constant(1L)).op());
    List<String> mixed = new ArrayList<>();
    long first = -1;
    long last = -1;
    try (Session s = new Session(g)) {
      s.run(init);
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(3);
      List<Future<Long>> trainers = new ArrayList<>();
      try {
        for (int t = 0; t < 3; t++) {
          trainers.add(pool.submit(() -> {
            long steps = 0;
            while (!stop.get()) {
              s.run(step);
              steps++;
            }
            return steps;
          }));
        }
        for (int i = 0; i < 200; i++) {
          Path ckpt = dir.resolve("ckpt-" + i);
          Saver.save(s, ckpt);
          try (Session fresh = new Session(g)) {
            Saver.restore(fresh, ckpt);
            long av = fresh.variableValue(a).toLongArray()[0];
            long bv = fresh.variableValue(b).toLongArray()[0];
            if (av != bv) {
              mixed.add("checkpoint " + i + ": a=" + av + " b=" + bv);
            }
            first = first < 0 ? av : first;
            last = av;
          }
        }
      } finally {
        stop.set(true);
        pool.shutdown();
      }
      long steps = 0;
      for (Future<Long> f : trainers) {
        steps += f.get(); // rethrows a trainer's failure
      }
      assertEquals(steps, s.variableValue(a).toLongArray()[0], "a counts every step");
      assertEquals(steps, s.variableValue(b).toLongArray()[0], "b counts every step");
    }
    assertTrue(last > first, "training went on while the checkpoints were saved: " + first + " .. " + last);
    assertTrue(mixed.isEmpty(), mixed.size() + " of 200 checkpoints mix two states, e.g. "
        + mixed.subList(0, Math.min(3, mixed.size())));
  }
}
