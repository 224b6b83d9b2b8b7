package dev.kiln.runtime.plan;

import dev.kiln.runtime.Session;
import dev.kiln.runtime.exec.Plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The device-neutral plan layer: run order, arena layout by liveness, feed checks, plan keys and variable state. */
class SharedPlanLayerTest {
  private static List<String> opNames(Schedule s) {
    List<String> names = new ArrayList<>();
    for (Schedule.Step step : s.steps()) {
      if (step instanceof Schedule.OpStep(Operation op)) {
        names.add(op.name());
      }
    }
    return names;
  }

  @Test
  void aReadNotOrderedAfterAnAssignRunsBeforeItWhateverTheCreationOrder() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(Tensor.of(new float[] {1, 2}, 2)));
    // The assign is created first; the read's only path to the fetch does not pass through it.
    Output newV = tf.withName("newV").assign(v, tf.add(v, tf.constant(1f)));
    Output r = tf.withName("r").tanh(v);
    Schedule s = Schedule.build(Set.of(), List.of(r), List.of(newV.op()), PlanRules.VIEWS_ONLY);
    List<String> names = opNames(s);
    assertTrue(names.indexOf("r") < names.indexOf("newV"), names.toString());
    assertEquals(List.of(v.op()), s.mustBeInitialized());
    assertEquals(List.of(v.op()), s.written());
    assertTrue(s.snapshots().isEmpty());
    // The variable's initial value is not read by the run.
    assertFalse(names.contains(v.op().input(0).op().name()), names.toString());
  }

  @Test
  void aSwapReadsBothVariablesThroughSnapshots() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable a = tf.variable("a", tf.constant(1f));
    Variable b = tf.variable("b", tf.constant(2f));
    Output toA = tf.assign(a, b);
    Output toB = tf.assign(b, a);
    Schedule s = Schedule.build(Set.of(), List.of(), List.of(toA.op(), toB.op()), PlanRules.VIEWS_ONLY);
    assertEquals(Set.of(a.op(), b.op()), Set.copyOf(s.snapshots()));
    List<String> names = opNames(s);
    for (Variable var : List.of(a, b)) {
      assertTrue(names.indexOf(var.op().name()) < names.indexOf(toA.op().name()), names.toString());
      assertTrue(names.indexOf(var.op().name()) < names.indexOf(toB.op().name()), names.toString());
    }
  }

  @Test
  void onlyRulesThatAllowItLetAKernelWriteIntoTheVariable() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(Tensor.of(new float[] {1, 2}, 2)));
    Output update = tf.sub(w, tf.constant(0.5f));
    Output step = tf.assign(w, update);
    PlanRules writes = new PlanRules() {
      @Override
      public boolean writesIntoVariable(Operation producer) {
        return true;
      }

      @Override
      public boolean allowsInPlace(Operation producer, int input) {
        return true;
      }
    };
    assertEquals(java.util.Map.of(update.op(), w.op()),
        Schedule.build(Set.of(), List.of(), List.of(step.op()), writes).fused());
    assertTrue(Schedule.build(Set.of(), List.of(), List.of(step.op()), PlanRules.VIEWS_ONLY).fused().isEmpty());
  }

  @Test
  void anArenaReusesTheBlocksOfDeadValuesButNeverAnInputOfTheSameStep() {
    // v0 = f(); v1 = g(v0); v2 = h(v1); v3 = k(v2, v0') with sizes 100, 300, 100, 50 bytes, 64-aligned.
    List<MemoryPlanner.Value> values = List.of(bytes(100), bytes(300), bytes(100), bytes(50));
    List<MemoryPlanner.Step> steps = List.of(
        new MemoryPlanner.Step(List.of(0), List.of(), false),
        new MemoryPlanner.Step(List.of(1), List.of(0), false),
        new MemoryPlanner.Step(List.of(2), List.of(1), false),
        new MemoryPlanner.Step(List.of(3), List.of(2), false),
        new MemoryPlanner.Step(List.of(), List.of(3), false));
    ArenaLayout.Arena arena = ArenaLayout.layout(values, steps, 64, MemoryPlanner.Value::bytes);
    long[] off = arena.offsets();
    // Blocks: 128, 320, 128, 64 bytes. v1 cannot take v0's block (v0 is its input): it goes after it.
    assertEquals(0, off[0]);
    assertEquals(128, off[1]);
    // v2 is written while v1 is read: v0's dead block at 0 fits it.
    assertEquals(0, off[2]);
    // v3 is written while v2 (0..128) is read; v1 is dead: the first gap is at 128.
    assertEquals(128, off[3]);
    assertEquals(128 + 320, arena.bytes());
    for (long o : off) {
      assertEquals(0, o % 64, "aligned");
    }
  }

  @Test
  void alignmentRoundsUp() {
    assertEquals(0, ArenaLayout.align(0, 256));
    assertEquals(256, ArenaLayout.align(1, 256));
    assertEquals(256, ArenaLayout.align(256, 256));
    assertEquals(512, ArenaLayout.align(257, 256));
    assertThrows(IllegalArgumentException.class, () -> ArenaLayout.layout(List.of(), List.of(), 0, MemoryPlanner.Value::bytes));
  }

  @Test
  void typedBuffersAndTheArenaAgreeOnLiveness() {
    // The same steps through both allocators: values live at once never share a buffer or overlap.
    List<MemoryPlanner.Value> values = List.of(bytes(10), bytes(10), bytes(10), bytes(10), bytes(10));
    List<MemoryPlanner.Step> steps = List.of(
        new MemoryPlanner.Step(List.of(0, 1), List.of(), false),
        new MemoryPlanner.Step(List.of(2), List.of(0), false),
        new MemoryPlanner.Step(List.of(3), List.of(1, 2), false),
        new MemoryPlanner.Step(List.of(4), List.of(3), false),
        new MemoryPlanner.Step(List.of(), List.of(4), false));
    MemoryPlanner.Plan typed = MemoryPlanner.plan(values, steps);
    ArenaLayout.Arena arena = ArenaLayout.layout(values, steps, 16, MemoryPlanner.Value::bytes);
    // Live intervals [def, last read]: v0 [0,1], v1 [0,2], v2 [1,2], v3 [2,3], v4 [3,4].
    int[][] live = {{0, 1}, {0, 2}, {1, 2}, {2, 3}, {3, 4}};
    for (int a = 0; a < live.length; a++) {
      for (int b = a + 1; b < live.length; b++) {
        boolean together = live[a][0] <= live[b][1] && live[b][0] <= live[a][1];
        if (together) {
          assertNotEquals(typed.bufferOf()[a], typed.bufferOf()[b], "v" + a + " and v" + b);
          assertNotEquals(arena.offsets()[a], arena.offsets()[b], "v" + a + " and v" + b);
        }
      }
    }
    assertEquals(3, typed.bufferCount(), "at most three values live at once");
    assertEquals(3 * 16, arena.bytes());
  }

  private static MemoryPlanner.Value bytes(long n) {
    return new MemoryPlanner.Value(DType.BOOL, n);
  }

  @Test
  void feedChecksNameTheNodeAndBothTypes() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
    Feeds.check(x, Tensor.of(new float[6], 2, 3));
    Tensor wrongShape = Tensor.of(new float[4], 2, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Feeds.check(x, wrongShape));
    assertEquals("Placeholder 'x': fed " + wrongShape.type() + ", expected " + x.type(), e.getMessage());
    Tensor wrongType = Tensor.of(new double[6], 2, 3);
    e = assertThrows(IllegalArgumentException.class, () -> Feeds.check(x, wrongType));
    assertEquals("Placeholder 'x': fed " + wrongType.type() + ", expected " + x.type(), e.getMessage());

    Graph other = new Graph();
    Output y = Ops.create(other).placeholder("y", DType.FLOAT32, Shape.of(1));
    e = assertThrows(IllegalArgumentException.class, () -> Feeds.requireInGraph(g, y.op(), "fetch"));
    assertEquals("fetch " + y.op() + " belongs to another graph than this Session's", e.getMessage());
    Feeds.requireInGraph(g, x.op(), "fetch");
  }

  @Test
  void planKeysAreEqualForTheSameSignatureOnly() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1));
    Output sum = tf.add(x, y);
    Output prod = tf.mul(x, y);
    Tensor two = Tensor.of(new float[2], 2);
    Tensor three = Tensor.of(new float[3], 3);
    PlanKey xy = key(new Output[] {x, y}, new Tensor[] {two, three}, sum);
    PlanKey yx = key(new Output[] {y, x}, new Tensor[] {three, two}, sum);
    assertEquals(xy, yx, "feeds in another order, same values");
    assertEquals(xy.hashCode(), yx.hashCode());
    assertNotEquals(xy, key(new Output[] {x, y}, new Tensor[] {three, two}, sum), "shapes swapped between feeds");
    assertNotEquals(xy, key(new Output[] {x, y}, new Tensor[] {two, Tensor.of(new double[3], 3)}, sum), "another dtype");
    assertNotEquals(xy, key(new Output[] {x, y}, new Tensor[] {two, three}, prod), "another fetch");
    Output[] feeds = {x, y};
    Tensor[] values = {two, three};
    assertNotEquals(xy, new PlanKey(feeds, values, new Output[] {sum}, new Operation[0], true), "lends");
    assertNotEquals(xy, new PlanKey(feeds, values, new Output[] {sum}, new Operation[] {prod.op()}), "a target");
  }

  private static PlanKey key(Output[] feeds, Tensor[] values, Output fetch) {
    Output[] f = feeds.clone();
    Tensor[] v = values.clone();
    PlanKey.sortFeeds(f, v);
    return new PlanKey(f, v, new Output[] {fetch}, new Operation[0]);
  }

  @Test
  void variableStateStartsUninitializedAndRefusesWritesWhileLent() {
    Graph g = new Graph();
    Variable v = Ops.create(g).variable("w", Ops.create(g).constant(Tensor.of(new float[] {1, 2, 3}, 3)));
    VariableState s = new VariableState(v.op());
    assertFalse(s.isInitialized());
    assertEquals(3, s.size);
    assertEquals(3, ((float[]) s.storage).length);
    assertEquals("Variable 'w' is uninitialized: run its initializer first", s.uninitialized().getMessage());
    s.requireNotLent("this run");
    s.loans.incrementAndGet();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.requireNotLent("this run"));
    assertTrue(e.getMessage().startsWith("this run would overwrite variable 'w'"), e.getMessage());
  }
}
