package dev.kiln.runtime;

import dev.kiln.runtime.exec.Plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Many runs: memory stays flat, buffers are reused, and 8 threads agree with serial runs. */
class SessionLoadTest {

  @Test
  void aHundredThousandSmallRunsKeepMemoryFlat() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(16));
    Output y = tf.add(tf.mul(x, tf.constant(2f)), tf.constant(1f));
    float[] xs = new float[16];
    for (int i = 0; i < 16; i++) {
      xs[i] = i;
    }
    Tensor xv = Tensor.of(xs, 16);
    try (Session s = new Session(g)) {
      Map<Output, Tensor> feeds = Map.of(x, xv);
      for (int i = 0; i < 10_000; i++) {
        s.run(feeds, y);
      }
      long before = usedHeapAfterGc();
      float[] last = null;
      for (int i = 0; i < 100_000; i++) {
        last = s.run(feeds, y).get(0).toFloatArray();
      }
      long after = usedHeapAfterGc();
      for (int i = 0; i < 16; i++) {
        assertEquals(2f * i + 1f, last[i]);
      }
      assertEquals(1, s.planCount());
      assertTrue(after - before < 4L << 20, "heap grew by " + (after - before) + " bytes over 100,000 runs");
    }
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }

  @Test
  void deadBuffersAreReused() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1000));
    Output v = x;
    for (int i = 0; i < 20; i++) {
      v = tf.neg(v);
    }
    Output out = tf.reshape(tf.identity(v), 10, 100); // views take no buffer
    Output t = tf.reshape(x, 40, 25);
    for (int i = 0; i < 6; i++) {
      t = tf.transpose(t);
    }
    float[] xs = new float[1000];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = i;
    }
    // Without the optimizer: it would simplify the 20 Negs and the 6 transposes away
    // (OptimizedSessionTest checks that).
    SessionOptions unoptimized = SessionOptions.builder().optimize(false).build();
    try (Session s = new Session(g, unoptimized)) {
      Tensor r = s.run(Map.of(x, Tensor.of(xs, 1000)), out).get(0);
      assertArrayEquals(xs, r.toFloatArray());
      assertEquals(Shape.of(10, 100), r.shape());
      Plan plan = s.plans().iterator().next();
      assertEquals(1, plan.bufferCount(), "each Neg overwrites its dead input");
      assertEquals(1000 * 4, plan.frameBytes());
    }
    try (Session s = new Session(g, unoptimized)) {
      Tensor r = s.run(Map.of(x, Tensor.of(xs, 1000)), t).get(0);
      assertArrayEquals(xs, r.toFloatArray());
      Plan plan = s.plans().iterator().next();
      assertEquals(2, plan.bufferCount(), "a chain of transposes alternates between two buffers");
      assertEquals(2 * 1000 * 4, plan.frameBytes());
    }
  }

  @Test
  void anUpdateComputedOnlyForItsAssignIsWrittenStraightIntoTheVariable() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(new float[] {1, 2, 3}));
    Output newW = tf.assign(w, tf.sub(w, tf.constant(new float[] {1, 1, 1})));
    Output doubled = tf.mul(w, tf.constant(2f));
    Output delta = tf.sub(w, tf.constant(new float[] {5, 5, 5}));
    Output shared = tf.assign(w, delta);
    try (Session s = new Session(g)) {
      s.assignVariables(Map.of(w, Tensor.of(new float[] {1, 2, 3}, 3)));
      List<Tensor> out = s.run(Map.of(), newW, doubled, w);
      assertEquals(Tensor.of(new float[] {0, 1, 2}, 3), out.get(0));
      assertEquals(Tensor.of(new float[] {2, 4, 6}, 3), out.get(1)); // read before the in-place update
      assertEquals(Tensor.of(new float[] {1, 2, 3}, 3), out.get(2));
      Plan plan = s.plans().iterator().next();
      assertEquals(1, plan.bufferCount(), "only Mul's output needs a buffer");
      assertEquals(5, plan.kernels.length, "Sub (into w), Mul and three fetch copies; no assign copy");

      // The value is also fetched: it keeps its own buffer and the Assign copies it.
      List<Tensor> both = s.run(Map.of(), shared, delta);
      assertEquals(Tensor.of(new float[] {-5, -4, -3}, 3), both.get(0));
      assertEquals(Tensor.of(new float[] {-5, -4, -3}, 3), both.get(1));
      assertEquals(Tensor.of(new float[] {-5, -4, -3}, 3), s.variableValue(w));
    }
  }

  @Test
  void eightThreadsAgreeWithSerialRuns() throws Exception {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 8));
    Variable w = tf.variable("w", tf.constant(Tensor.of(TwoLayerNetworkTest.normal(5, 8 * 4), 8, 4)));
    Output yOut = tf.reduceSum(tf.tanh(tf.matmul(x, w)), new int[] {1}, false);
    Variable counter = tf.variable("counter", tf.constant(0L));
    Output bump = tf.assignAdd(counter, tf.constant(1L));
    int threads = 8;
    int runs = 300;
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> inputs = new ArrayList<>();
      List<Tensor> expected = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int rows = 1 + t; // different signatures too
        Tensor in = Tensor.of(TwoLayerNetworkTest.normal(100 + t, rows * 8), rows, 8);
        inputs.add(in);
        expected.add(s.run(Map.of(x, in), yOut).get(0));
      }
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          done.add(pool.submit(() -> {
            for (int i = 0; i < runs; i++) {
              Tensor got = s.run(Map.of(x, inputs.get(id)), yOut).get(0);
              assertEquals(expected.get(id), got);
              s.run(bump.op());
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      // each assigning run is atomic with respect to the others: no increment is lost
      assertEquals(Tensor.scalar((long) threads * runs), s.variableValue(counter));
    }
  }
}
