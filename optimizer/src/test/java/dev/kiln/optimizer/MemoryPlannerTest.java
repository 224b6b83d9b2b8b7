package dev.kiln.optimizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.optimizer.MemoryPlanner.Step;
import dev.kiln.optimizer.MemoryPlanner.Value;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryPlannerTest {
  private static Value f32(long n) {
    return new Value(DType.FLOAT32, n);
  }

  @Test
  void deadBuffersAreReusedAndPeakIsTheirSum() {
    // v0 = f(feed); v1 = g(v0); v2 = h(v1); fetch v2 — not in place: v0's buffer is free again for v2.
    List<Value> values = List.of(f32(100), f32(100), f32(100));
    List<Step> steps = List.of(new Step(List.of(0), List.of(), false), new Step(List.of(1), List.of(0), false),
        new Step(List.of(2), List.of(1), false), new Step(List.of(), List.of(2), false));
    MemoryPlanner.Plan p = MemoryPlanner.plan(values, steps);
    assertEquals(2, p.bufferCount());
    assertEquals(p.bufferOf()[0], p.bufferOf()[2]);
    assertNotEquals(p.bufferOf()[0], p.bufferOf()[1]);
    assertEquals(2 * 100 * 4, p.peakBytes());
    assertEquals(2 * 100 * 4, p.liveBytesPeak());
    assertEquals(0, p.inPlaceCount());
  }

  @Test
  void elementwiseWritesOverAnInputThatDies() {
    List<Value> values = List.of(f32(100), f32(100), f32(100));
    List<Step> steps = List.of(new Step(List.of(0), List.of(), true), new Step(List.of(1), List.of(0, 0), true),
        new Step(List.of(2), List.of(1), true), new Step(List.of(), List.of(2), false));
    MemoryPlanner.Plan p = MemoryPlanner.plan(values, steps);
    assertEquals(1, p.bufferCount());
    assertArrayEquals(new int[] {0, 0, 0}, p.bufferOf());
    assertEquals(400, p.peakBytes());
    assertEquals(2, p.inPlaceCount());
  }

  @Test
  void noInPlaceWhenTheInputLivesOnOrDiffersInSizeOrDtype() {
    // v1 = f(v0) but v0 is read later; v2 = g(v1) broadcasts to a bigger size; v3 = cast(v2) to f64.
    List<Value> values = List.of(f32(10), f32(10), f32(30), new Value(DType.FLOAT64, 30));
    List<Step> steps = List.of(new Step(List.of(0), List.of(), true), new Step(List.of(1), List.of(0), true),
        new Step(List.of(2), List.of(1), true), new Step(List.of(3), List.of(2, 0), true),
        new Step(List.of(), List.of(3), false));
    MemoryPlanner.Plan p = MemoryPlanner.plan(values, steps);
    assertEquals(0, p.inPlaceCount());
    assertNotEquals(p.bufferOf()[0], p.bufferOf()[1]);
    // v1 dies at step 2 only after v2 is written, so v2 needs a new buffer; v3 is f64: its own.
    assertEquals(4, p.bufferCount());
    assertEquals(10 * 4 + 10 * 4 + 30 * 4 + 30 * 8, p.peakBytes());
  }

  @Test
  void aFreedSmallBufferGrowsForALaterBiggerValue() {
    List<Value> values = List.of(f32(10), f32(10), f32(50));
    List<Step> steps = List.of(new Step(List.of(0), List.of(), false), new Step(List.of(1), List.of(0), false),
        new Step(List.of(2), List.of(1), false), new Step(List.of(), List.of(2), false));
    MemoryPlanner.Plan p = MemoryPlanner.plan(values, steps);
    assertEquals(2, p.bufferCount());
    assertEquals(p.bufferOf()[0], p.bufferOf()[2]);
    assertEquals(50 * 4 + 10 * 4, p.peakBytes());
    assertEquals(60 * 4, p.liveBytesPeak());
  }

  @Test
  void writtenButNeverReadIsFreedAtOnce() {
    List<Value> values = List.of(f32(8), f32(8));
    List<Step> steps = List.of(new Step(List.of(0), List.of(), false), new Step(List.of(1), List.of(), false),
        new Step(List.of(), List.of(1), false));
    MemoryPlanner.Plan p = MemoryPlanner.plan(values, steps);
    assertEquals(1, p.bufferCount());
  }

  @Test
  void whichOpsMayWriteInPlace() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    assertTrue(MemoryPlanner.mayWriteInPlace(tf.exp(x).op()));
    assertTrue(MemoryPlanner.mayWriteInPlace(tf.add(x, x).op()));
    assertFalse(MemoryPlanner.mayWriteInPlace(tf.cast(x, DType.FLOAT64).op()));
    assertFalse(MemoryPlanner.mayWriteInPlace(tf.addN(List.of(x, x, x)).op()));
    assertFalse(MemoryPlanner.mayWriteInPlace(tf.identity(x).op()));
    assertFalse(MemoryPlanner.mayWriteInPlace(tf.matmul(tf.reshape(x, 2, 2), tf.reshape(x, 2, 2)).op()));
  }
}
