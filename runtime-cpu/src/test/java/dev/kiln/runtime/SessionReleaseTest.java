package dev.kiln.runtime;

import dev.kiln.runtime.exec.Plan;
import dev.kiln.runtime.kernels.Kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.junit.jupiter.api.Test;

/**
 * Closing a Session, or evicting a plan from its cache, releases everything the plan holds: its
 * kernels and their per-thread scratch. Checked with weak references (every plan and kernel ever
 * compiled must be collectable once dropped) and with the heap after GC.
 */
class SessionReleaseTest {
  private static final int WIDTH = 16;

  /** x [-1, 16] -> sigmoid(x * 2 + 1), and the sum of its squares: a Fused node with a reduction. */
  private record Model(Graph graph, Output x, Output y, Output sum) {
    static Model build() {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, WIDTH));
      Output y = tf.sigmoid(tf.add(tf.mul(x, tf.constant(2f)), tf.constant(1f)));
      Output sum = tf.reduceSum(tf.mul(y, y));
      return new Model(g, x, y, sum);
    }
  }

  /** Runs the model on {@code batch} rows and checks both fetches against a plain Java computation. */
  private static void runAndCheck(Session s, Model m, int batch) {
    float[] xs = new float[batch * WIDTH];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = ((i * 37) % 101) / 50f - 1f;
    }
    List<Tensor> out = s.run(Map.of(m.x(), Tensor.of(xs, batch, WIDTH)), m.y(), m.sum());
    float[] y = out.get(0).toFloatArray();
    double sum = 0;
    for (int i = 0; i < xs.length; i++) {
      double expected = 1 / (1 + Math.exp(-(2.0 * xs[i] + 1)));
      assertEquals(expected, y[i], 1e-6, "y[" + i + "] at batch " + batch);
      sum += expected * expected;
    }
    assertEquals(sum, out.get(1).toFloatArray()[0], 1e-4 * Math.max(1, sum), "sum at batch " + batch);
  }

  /**
   * Objects held weakly. A weak reference is cleared by the collection itself (a reference queue, as
   * WeakHashMap's, is filled later by another thread), so counting uncleared references after GC is exact.
   */
  private static final class Tracked {
    private final Set<Object> seen = Collections.newSetFromMap(new WeakHashMap<>());
    private final List<WeakReference<Object>> refs = new ArrayList<>();

    void add(Object o) {
      if (seen.add(o)) {
        refs.add(new WeakReference<>(o));
      }
    }

    /** Tracks every plan the Session holds now and each plan's kernels; returns how many. */
    int addPlans(Session s) {
      int n = 0;
      for (Plan p : s.plans()) {
        add(p);
        for (Kernel k : p.kernels) {
          add(k);
        }
        n += 1 + p.kernels.length;
      }
      return n;
    }

    /** How many tracked objects survive collection (a few full GCs, until none does). */
    int liveAfterGc() {
      int live = Integer.MAX_VALUE;
      for (int i = 0; i < 5 && live > 0; i++) {
        System.gc();
        live = (int) refs.stream().filter(r -> r.get() != null).count();
      }
      return live;
    }
  }

  @Test
  void twoThousandClosedSessionsLeaveNothingBehind() {
    Model m = Model.build();
    Tracked tracked = new Tracked();
    for (int i = 0; i < 50; i++) { // warm-up: class loading, JIT, generated loops
      try (Session s = new Session(m.graph())) {
        runAndCheck(s, m, 64);
      }
    }
    long before = usedHeapAfterGc();
    int count = 0;
    for (int i = 0; i < 2_000; i++) {
      try (Session s = new Session(m.graph())) {
        runAndCheck(s, m, 64);
        count += tracked.addPlans(s);
      }
    }
    assertTrue(count >= 4_000, "plans and kernels tracked: " + count);
    long after = usedHeapAfterGc();
    System.out.printf("2,000 Sessions opened, run and closed: heap after GC %+.2f MiB%n", (after - before) / 1048576.0);
    assertEquals(0, tracked.liveAfterGc(), "plans or kernels of closed Sessions still reachable");
    assertTrue(after - before < 4L << 20, "heap grew by " + (after - before) + " bytes over 2,000 closed Sessions");
  }

  @Test
  void evictedPlansAndClosedSessionAreReleased() {
    Model m = Model.build();
    Tracked tracked = new Tracked();
    try (Session s = new Session(m.graph())) { // warm-up: class loading, JIT, generated loops
      for (int batch = 1; batch <= 64; batch++) {
        runAndCheck(s, m, batch);
      }
    }
    long before = usedHeapAfterGc();
    try (Session s = new Session(m.graph(), SessionOptions.builder().maxCachedPlans(16).build())) {
      for (int batch = 1; batch <= 2_000; batch++) {
        runAndCheck(s, m, batch);
        tracked.addPlans(s);
      }
      // Only the cached plans (at most 16) and their kernels may still be reachable.
      int cached = 0;
      for (Plan p : s.plans()) {
        cached += 1 + p.kernels.length;
      }
      assertTrue(s.planCount() <= 16, "plans cached: " + s.planCount());
      int live = tracked.liveAfterGc();
      System.out.printf("2,000 batch sizes, open Session: %d plans and kernels reachable, %d cached (heap %+.2f MiB)%n",
          live, cached, (usedHeapAfterGc() - before) / 1048576.0);
      assertTrue(live <= cached, live + " plans and kernels reachable, the cached plans hold " + cached);
    }
    long after = usedHeapAfterGc();
    System.out.printf("2,000 batch sizes through one Session, closed: heap after GC %+.2f MiB%n",
        (after - before) / 1048576.0);
    assertEquals(0, tracked.liveAfterGc(), "plans or kernels of the closed Session still reachable");
    assertTrue(after - before < 4L << 20, "heap grew by " + (after - before) + " bytes after 2,000 batch sizes");
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
}
