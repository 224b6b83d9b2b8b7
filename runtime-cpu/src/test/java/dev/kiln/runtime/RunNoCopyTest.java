package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Session.Runner#runNoCopy()}: fetched variables are the Session's storage, lent to the
 * Result until it is closed. Values are checked against plain loops in doubles (the operands are
 * multiples of 1/8, so every sum is exact in f32); the no-copy is checked by identity of the arrays.
 */
class RunNoCopyTest {
  private static final SessionOptions OFF = SessionOptions.builder().optimize(false).build();
  private static final int N = 5;
  private static final int DIN = 4;
  private static final int DOUT = 3;

  /** w <- w - 0.25 * x^T d (one Gemm into w when optimized), v <- v + 1, and a loss-like sum. */
  private static final class Step {
    final Graph g = new Graph();
    final Ops tf = Ops.create(g);
    final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, DIN));
    final Output d = tf.placeholder("d", DType.FLOAT32, Shape.of(-1, DOUT));
    final double[] w0 = values(1, DIN * DOUT);
    final Variable w = tf.variable("w", tf.constant(Ref.tensor(DType.FLOAT32, w0, DIN, DOUT)));
    final Variable v = tf.variable("v", tf.constant(Tensor.of(new float[] {1, 2}, 2)));
    final Output newW = tf.assign(w, tf.sub(w, tf.mul(tf.constant(0.25f), tf.matmul(x, d, true, false))));
    final Output newV = tf.assignAdd(v, tf.constant(Tensor.of(new float[] {1, 1}, 2)));
    final Output sum = tf.reduceSum(tf.matmul(x, w));
    final double[] xv = values(2, N * DIN);
    final double[] dv = values(3, N * DOUT);

    Session.Runner runner(Session s) {
      return s.runner().feed(x, Ref.tensor(DType.FLOAT32, xv, N, DIN)).feed(d, Ref.tensor(DType.FLOAT32, dv, N, DOUT));
    }

    /** w after one step from {@code old}. */
    double[] next(double[] old) {
      double[] want = old.clone();
      for (int i = 0; i < DIN; i++) {
        for (int j = 0; j < DOUT; j++) {
          double g = 0;
          for (int r = 0; r < N; r++) {
            g += xv[r * DIN + i] * dv[r * DOUT + j];
          }
          want[i * DOUT + j] -= 0.25 * g;
        }
      }
      return want;
    }
  }

  private static double[] values(long seed, int n) {
    java.util.Random r = new java.util.Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextInt(17) / 8.0 - 1;
    }
    return v;
  }

  private static void assertValues(double[] want, Tensor got, String what) {
    assertEquals(want.length, got.size(), what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got.getDouble(i), 0, what + " element " + i);
    }
  }

  @Test
  void fetchedVariablesAreTheSessionsStorageWithTheValuesAfterTheRun() {
    Step m = new Step();
    for (SessionOptions o : List.of(SessionOptions.defaults(), OFF)) {
      try (Session s = new Session(m.g, o)) {
        s.run(m.w.initializer(), m.v.initializer());
        double[] w = m.w0;
        Object storage = null;
        for (int step = 0; step < 3; step++) {
          String what = (o.optimize() ? "optimized" : "unoptimized") + " step " + step;
          try (Result r = m.runner(s).fetch(m.newW).fetch(m.newV).fetch(m.sum).runNoCopy()) {
            w = m.next(w);
            assertValues(w, r.get(m.newW), what + " new w");
            assertValues(new double[] {2 + step, 3 + step}, r.get(1), what + " new v");
            assertValues(w, s.variableValue(m.w), what + " variable w");
            Object lent = HostBuffers.array(r.get(0));
            if (storage != null) {
              assertSame(storage, lent, what + ": w's storage again, not a copy");
            }
            storage = lent;
            assertEquals(3, r.size());
          }
        }
        // run() still hands out copies the caller owns
        List<Tensor> copied = m.runner(s).fetch(m.newW).run();
        assertNotSame(storage, HostBuffers.array(copied.get(0)));
        assertValues(m.next(m.next(m.next(m.next(m.w0)))), copied.get(0), o + " run() after runNoCopy");
      }
    }
  }

  @Test
  void aRunThatWritesALentVariableFailsBeforeWritingAnything() {
    Step m = new Step();
    try (Session s = new Session(m.g)) {
      s.run(m.w.initializer(), m.v.initializer());
      Result r = m.runner(s).fetch(m.newW).runNoCopy();
      double[] after1 = m.next(m.w0);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.runner(s).fetch(m.newW).run());
      assertEquals("this run would overwrite variable 'w', whose value an open Result holds (fetched by "
          + "runNoCopy()): close it first", e.getMessage());
      // v is not lent: a run that writes only v is fine, and nothing of the failed run was applied
      s.run(m.newV.op());
      assertValues(after1, r.get(0), "lent w after the refused run");
      assertValues(after1, s.variableValue(m.w), "w after the refused run");
      IllegalStateException a = assertThrows(IllegalStateException.class,
          () -> s.assignVariables(Map.of(m.w, Ref.tensor(DType.FLOAT32, m.w0, DIN, DOUT))));
      assertTrue(a.getMessage().startsWith("assignVariables would overwrite variable 'w'"), a.getMessage());
      // reads are fine while it is lent, also lent again to a second Result
      Result r2 = s.runner().fetch(m.w).runNoCopy();
      assertSame(HostBuffers.array(r.get(0)), HostBuffers.array(r2.get(0)));
      IllegalStateException two = assertThrows(IllegalStateException.class, () -> m.runner(s).addTarget(m.newW.op()).run());
      assertTrue(two.getMessage().contains("whose value 2 open Results hold"), two.getMessage());
      r.close();
      r.close(); // idempotent: the count drops once
      assertThrows(IllegalStateException.class, () -> m.runner(s).addTarget(m.newW.op()).run());
      r2.close();
      assertTrue(r.isClosed() && r2.isClosed());
      double[] after2 = m.next(after1);
      try (Result r3 = m.runner(s).fetch(m.newW).runNoCopy()) {
        assertValues(after2, r3.get(0), "after closing both");
      }
    }
  }

  @Test
  void aLentTensorCannotBeReadAfterItsResultIsClosed() {
    Step m = new Step();
    try (Session s = new Session(m.g)) {
      s.run(m.w.initializer(), m.v.initializer());
      Result r = m.runner(s).fetch(m.sum).fetch(m.newW).runNoCopy();
      Tensor lent = r.get(m.newW);
      Tensor owned = r.get(m.sum);
      float sum = owned.floatValue();
      r.close();
      IllegalStateException e = assertThrows(IllegalStateException.class, lent::toFloatArray);
      assertTrue(e.getMessage().contains("lent by runNoCopy() and its Result is closed"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> lent.getDouble(0));
      assertThrows(IllegalStateException.class, lent::toString);
      assertThrows(IllegalStateException.class, () -> HostBuffers.array(lent));
      assertEquals(sum, owned.floatValue(), "a value that is not a variable is a copy the caller owns");
      assertEquals(List.of(DIN, DOUT).size(), lent.shape().rank(), "the shape stays readable");
    }
  }

  @Test
  void aVariableReadBeforeItsAssignInTheSameRunIsCopied() {
    Step m = new Step();
    try (Session s = new Session(m.g)) {
      s.run(m.w.initializer(), m.v.initializer());
      Tensor old;
      try (Result r = m.runner(s).fetch(m.w).fetch(m.newW).runNoCopy()) {
        old = r.get(m.w);
        assertValues(m.w0, old, "w as read before the assign");
        assertValues(m.next(m.w0), r.get(m.newW), "w after the assign");
        assertFalse(HostBuffers.array(old) == HostBuffers.array(r.get(m.newW)));
      }
      assertValues(m.w0, old, "the copied read outlives the Result");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> m.runner(s).fetch(m.sum).runNoCopy().get(m.newW));
      assertTrue(e.getMessage().startsWith("'" + m.newW.name() + "' was not fetched in this run"), e.getMessage());
    }
  }
}
