package dev.kiln.runtime;

import dev.kiln.runtime.exec.Plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The memory plan's peak, reported before anything runs, against the true peak: the bytes of the
 * buffer arrays a frame of the compiled plan actually holds (counted from the arrays themselves).
 */
class MemoryPlanTest {
  /** The hand-counted cases plan the graph as written. */
  private static final SessionOptions UNOPTIMIZED = SessionOptions.builder().optimize(false).build();

  @Test
  void optimizedPlansReportTheirTruePeakToo() {
    float[] w1 = TwoLayerNetworkTest.normal(1, TwoLayerNetworkTest.D_IN * TwoLayerNetworkTest.H);
    float[] w2 = TwoLayerNetworkTest.normal(2, TwoLayerNetworkTest.H * TwoLayerNetworkTest.D_OUT);
    TwoLayerNetworkTest.Net net = new TwoLayerNetworkTest.Net(w1, w2);
    Map<Output, Tensor> feeds = Map.of(
        net.x, Tensor.of(TwoLayerNetworkTest.normal(3, 64 * TwoLayerNetworkTest.D_IN), 64, TwoLayerNetworkTest.D_IN),
        net.y, Tensor.of(TwoLayerNetworkTest.normal(4, 64 * TwoLayerNetworkTest.D_OUT), 64, TwoLayerNetworkTest.D_OUT));
    try (Session on = new Session(net.g); Session off = new Session(net.g, UNOPTIMIZED)) {
      for (Session s : List.of(on, off)) {
        s.run(net.init);
        MemoryReport before = MemoryReport.of(s, feeds, List.of(net.loss, net.newW1, net.newW2), List.of());
        s.run(feeds, net.loss, net.newW1, net.newW2);
        Plan plan = s.plans().stream().filter(p -> p.resultSlots.length == 3).findFirst().orElseThrow();
        assertEquals(plan.allocatedFrameBytes(), before.peakBytes());
      }
      MemoryReport fused = MemoryReport.of(on, feeds, List.of(net.loss, net.newW1, net.newW2), List.of());
      MemoryReport plain = MemoryReport.of(off, feeds, List.of(net.loss, net.newW1, net.newW2), List.of());
      assertTrue(fused.kernels() < plain.kernels(), fused + " vs " + plain);
      assertTrue(fused.peakBytes() <= plain.peakBytes(), fused + " vs " + plain);
    }
  }

  @Test
  void twoLayerTrainingStepReportsItsTruePeakBeforeRunning() {
    float[] w1 = TwoLayerNetworkTest.normal(1, TwoLayerNetworkTest.D_IN * TwoLayerNetworkTest.H);
    float[] w2 = TwoLayerNetworkTest.normal(2, TwoLayerNetworkTest.H * TwoLayerNetworkTest.D_OUT);
    TwoLayerNetworkTest.Net net = new TwoLayerNetworkTest.Net(w1, w2);
    Map<Output, Tensor> feeds = Map.of(
        net.x, Tensor.of(TwoLayerNetworkTest.normal(3, 64 * TwoLayerNetworkTest.D_IN), 64, TwoLayerNetworkTest.D_IN),
        net.y, Tensor.of(TwoLayerNetworkTest.normal(4, 64 * TwoLayerNetworkTest.D_OUT), 64, TwoLayerNetworkTest.D_OUT));
    try (Session s = new Session(net.g, UNOPTIMIZED)) {
      s.run(net.init);
      MemoryReport before = MemoryReport.of(s, feeds, List.of(net.loss, net.newW1, net.newW2), List.of());
      s.run(feeds, net.loss, net.newW1, net.newW2);
      Plan plan = s.plans().stream().filter(p -> p.resultSlots.length == 3).findFirst().orElseThrow();
      assertEquals(plan.allocatedFrameBytes(), before.peakBytes());
      assertEquals(before, MemoryReport.of(plan));
      assertTrue(before.inPlace() > 0, "some elementwise op writes in place: " + before);
      assertTrue(before.peakBytes() >= before.liveBytesPeak());
      // By hand: the values live at once can never need less than the two gradients and the product.
      long gradients = 4L * (TwoLayerNetworkTest.D_IN * TwoLayerNetworkTest.H + TwoLayerNetworkTest.H * TwoLayerNetworkTest.D_OUT);
      assertTrue(before.liveBytesPeak() >= gradients / 2, before.toString());
    }
  }

  @Test
  void chainWithBroadcastAndCastMatchesByHand() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(100));
    Output row = tf.placeholder("row", DType.FLOAT32, Shape.of(3, 1));
    Output a = tf.exp(x);             // buffer A: 100 f32
    Output b = tf.neg(a);             // in place over A
    Output c = tf.add(b, row);        // broadcast to [3,100]: buffer B, 300 f32 (A dies: free)
    Output d = tf.cast(c, DType.FLOAT64); // buffer C, 300 f64 (B dies)
    Output e = tf.sqrt(tf.abs(d));    // abs in place over C, sqrt in place over C
    try (Session s = new Session(g, UNOPTIMIZED)) {
      Map<Output, Tensor> feeds = Map.of(x, Tensor.of(new float[100], 100), row, Tensor.of(new float[3], 3, 1));
      MemoryReport r = MemoryReport.of(s, feeds, List.of(e), List.of());
      assertEquals(100 * 4 + 300 * 4 + 300 * 8, r.peakBytes());
      assertEquals(3, r.buffers());
      assertEquals(3, r.inPlace());
      Tensor out = s.run(feeds, e).get(0);
      assertEquals(Shape.of(3, 100), out.shape());
      assertEquals(1.0, out.getDouble(0), 0.0); // sqrt(|-exp(0) + 0|)
      Plan plan = s.plans().iterator().next();
      assertEquals(plan.allocatedFrameBytes(), r.peakBytes());
    }
  }

  @Test
  void fetchedIntermediateIsNotOverwrittenInPlace() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    Output a = tf.exp(x);
    Output b = tf.neg(a); // a is fetched after b runs: b must not take a's buffer
    try (Session s = new Session(g)) {
      List<Tensor> out = s.run(Map.of(x, Tensor.of(new float[] {0, 1, 2, 3}, 4)), b, a);
      for (int i = 0; i < 4; i++) {
        assertEquals(Math.exp(i), out.get(1).getDouble(i), 1e-6);
        assertEquals(-Math.exp(i), out.get(0).getDouble(i), 1e-6);
      }
    }
  }

  @Test
  void fusedOutputTakesOverADyingInputOnlyWhereTheKernelIsDoneReadingIt() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(64, 32));
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(32, 48));
    Output a = tf.matmul(x, w);                     // a buffer the fused node reads and that dies there
    Output r1 = tf.exp(tf.neg(a));                   // computed before the last read of a: not over a
    Output r2 = tf.add(tf.mul(tf.tanh(a), a), a);    // the last reader of a: may be written over a
    float[] xs = TwoLayerNetworkTest.normal(7, 64 * 32);
    float[] ws = TwoLayerNetworkTest.normal(8, 32 * 48);
    Map<Output, Tensor> feeds = Map.of(x, Tensor.of(xs, 64, 32), w, Tensor.of(ws, 32, 48));
    try (Session s = new Session(g)) {
      MemoryReport r = MemoryReport.of(s, feeds, List.of(r1, r2), List.of());
      assertEquals(1, r.inPlace(), r.toString());
      assertEquals(2, r.buffers(), r.toString());
      List<Tensor> out = s.run(feeds, r1, r2);
      for (int i = 0; i < 64; i++) {
        for (int j = 0; j < 48; j++) {
          double v = 0;
          for (int k = 0; k < 32; k++) {
            v += (double) xs[i * 32 + k] * ws[k * 48 + j];
          }
          assertEquals(Math.exp(-v), out.get(0).getDouble(i * 48 + j), 1e-4 * Math.max(1, Math.exp(-v)));
          assertEquals(Math.tanh(v) * v + v, out.get(1).getDouble(i * 48 + j), 1e-4 * Math.max(1, Math.abs(v)));
        }
      }
    }
  }
}
