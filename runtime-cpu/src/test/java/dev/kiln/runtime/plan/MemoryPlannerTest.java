package dev.kiln.runtime.plan;

import dev.kiln.runtime.exec.Plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.kiln.graph.DType;
import dev.kiln.runtime.plan.MemoryPlanner.Step;
import dev.kiln.runtime.plan.MemoryPlanner.Value;
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
  void twoOutputsNeverTakeOverTheSameInput() {
    // v0 = f(); (v1, v2) = g(v0) where both outputs may overwrite v0: only the first does.
    List<Value> values = List.of(f32(16), f32(16), f32(16));
    List<Step> steps = List.of(new Step(List.of(0), List.of(), false),
        new Step(List.of(1, 2), List.of(0), List.of(List.of(0), List.of(0))),
        new Step(List.of(), List.of(1, 2), false));
    MemoryPlanner.Plan p = MemoryPlanner.plan(values, steps);
    assertEquals(p.bufferOf()[0], p.bufferOf()[1]);
    assertNotEquals(p.bufferOf()[1], p.bufferOf()[2]);
    assertEquals(1, p.inPlaceCount());
    assertEquals(2, p.bufferCount());
  }
}
