package dev.kiln.reliability;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import dev.kiln.train.Saver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Three threads run {@code group(assignAdd(a, 1), assignAdd(b, 1))} (i64, so that no increment is lost
 * to rounding) while checkpoints are saved; each
 * is restored into a fresh Session, where a and b must be equal (a save is one consistent snapshot).
 */
final class ConcurrentSave {
  private ConcurrentSave() {}

  static void run(Check check, Path dir, int saves) throws Exception {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable a = tf.variable("a", tf.constant(0L));
    Variable b = tf.variable("b", tf.constant(0L));
    Operation step = tf.group(tf.assignAdd(a, tf.constant(1L)).op(), tf.assignAdd(b, tf.constant(1L)).op());
    Operation init = tf.globalVariablesInitializer();
    Path ckpt = dir.resolve("concurrent.ckpt");
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong steps = new AtomicLong();
    try (Session s = new Session(g)) {
      s.run(init);
      List<Thread> trainers = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        Thread th = new Thread(() -> {
          while (!stop.get()) {
            s.run(step);
            steps.incrementAndGet();
          }
        }, "trainer-" + t);
        trainers.add(th);
        th.start();
      }
      try {
        for (int i = 0; i < saves; i++) {
          Verdict v;
          try {
            Saver.save(s, ckpt);
            try (Session fresh = new Session(g)) {
              Saver.restore(fresh, ckpt);
              long av = fresh.variableValue(a).longValue();
              long bv = fresh.variableValue(b).longValue();
              v = av == bv ? Verdict.handled("a = b = " + av)
                  : Verdict.failed("checkpoint of a state that never existed (a != b)", "a = " + av + ", b = " + bv);
            }
          } catch (Throwable t) {
            v = Verdict.failed("save or restore threw " + t.getClass().getSimpleName(), Classify.describe(t));
          }
          check.record("save " + i + " while 3 threads train", v);
        }
      } finally {
        stop.set(true);
        for (Thread th : trainers) {
          th.join();
        }
      }
      check.note(steps.get() + " training steps ran during " + saves + " saves");
    }
  }
}
