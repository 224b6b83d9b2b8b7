package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Place;
import dev.kiln.optimizer.Program;
import dev.kiln.optimizer.Prune;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A CUDA plan's run order and arena layout (the shared plan layer's), computed without a GPU. */
class RunOrderAndArenaTest {
  private static List<Operation> order(Program p) {
    return CudaPlan.order(CudaPlan.schedule(p), p.fed());
  }

  /** Offsets of the values {@code inArena} accepts (no device value is fed in these programs). */
  private static long layout(Program p, List<Operation> order, java.util.function.Predicate<Output> inArena,
      java.util.function.ToLongFunction<Output> bytes, Map<Output, Long> offsets) {
    List<Output> values = new ArrayList<>();
    dev.kiln.runtime.plan.ArenaLayout.Arena arena = CudaPlan.layout(order, List.copyOf(p.fed()), p.fetches(), inArena,
        bytes, values);
    for (int v = 0; v < values.size(); v++) {
      offsets.put(values.get(v), arena.offsets()[v]);
    }
    return arena.bytes();
  }

  private static Program placed(Graph g, List<Output> fetches, List<Operation> targets, Set<Output> fed) {
    return new PassManager(List.of(new Prune(), new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY)))
        .run(new Program(g, fetches, targets, fed));
  }

  @Test
  void readsNotOrderedAfterAnAssignRunBeforeIt() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(Tensor.of(new float[] {1, 2}, 2)));
    // Created first, but nothing orders the tanh after it: it must see the old value.
    Output newV = tf.withName("newV").assign(v, tf.add(v, tf.constant(1f)));
    Output r = tf.withName("r").tanh(v);
    Program p = placed(g, List.of(r), List.of(newV.op()), Set.of());
    List<Operation> order = order(p);
    List<String> names = order.stream().map(Operation::name).toList();
    assertTrue(names.indexOf("r") < names.indexOf("newV"), names.toString());
    // Every node comes after the values it reads and its control inputs.
    for (int i = 0; i < order.size(); i++) {
      Operation op = order.get(i);
      for (int k = 0; k < op.numInputs(); k++) {
        if (op.def().readsInput(k)) {
          assertTrue(order.indexOf(op.input(k).op()) < i, op + " before its input " + op.input(k));
        }
      }
      for (Operation c : op.controlInputs()) {
        assertTrue(order.indexOf(c) < i, op + " before its control input " + c);
      }
    }
    // The variable's initial value is not read by this run, so it is not executed.
    Operation init = p.graph().operation("v").input(0).op();
    assertFalse(order.contains(init), names.toString());
  }

  @Test
  void aSwapOnTheDeviceReadsBothVariablesThroughSnapshotsTakenBeforeTheAssigns() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable a = tf.variable("a", tf.constant(Tensor.of(new float[] {1, 2}, 2)));
    Variable b = tf.variable("b", tf.constant(Tensor.of(new float[] {3, 4}, 2)));
    Output toA = tf.withName("toA").assign(a, b);
    Output toB = tf.withName("toB").assign(b, a);
    Program p = placed(g, List.of(), List.of(toA.op(), toB.op()), Set.of());
    dev.kiln.runtime.plan.Schedule s = CudaPlan.schedule(p);
    assertEquals(Set.of("a", "b"), s.snapshots().stream().map(Operation::name).collect(java.util.stream.Collectors.toSet()));
    assertEquals(Set.of("a", "b"), s.mustBeInitialized().stream().map(Operation::name)
        .collect(java.util.stream.Collectors.toSet()));
    List<String> names = order(p).stream().map(Operation::name).toList();
    for (String var : List.of("a", "b")) {
      assertTrue(names.indexOf(var) < names.indexOf("toA") && names.indexOf(var) < names.indexOf("toB"), names.toString());
    }
  }

  @Test
  void aValueFedOnTheDeviceTakesArenaMemoryFromTheStart() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1000));
    Output e = tf.withName("e").exp(x);
    Output n = tf.withName("n").neg(e);
    Output m = tf.withName("m").exp(n);
    // e is fed: its node does not run, and its value needs a device block before n reads it.
    Program p = placed(g, List.of(m), List.of(), Set.of(e));
    Output fedE = p.fed().iterator().next();
    List<Operation> order = order(p);
    assertFalse(order.contains(fedE.op()), order.toString());
    List<Output> values = new ArrayList<>();
    dev.kiln.runtime.plan.ArenaLayout.Arena arena = CudaPlan.layout(order, List.of(fedE), p.fetches(),
        o -> o.op().device().equals("/gpu:0"), o -> 4000, values);
    assertEquals(fedE, values.get(0));
    // e, n and m: e dies at n, so m reuses e's block.
    assertEquals(3, values.size(), values.toString());
    assertEquals(arena.offsets()[0], arena.offsets()[2]);
    assertEquals(2 * 4096, arena.bytes());
  }

  @Test
  void aChainReusesTwoBuffers() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(1000));
    Output y = x;
    for (int i = 0; i < 10; i++) {
      y = i % 2 == 0 ? tf.exp(y) : tf.neg(y);
    }
    Program p = placed(g, List.of(y), List.of(), Set.of(x));
    List<Operation> order = order(p);
    Map<Output, Long> offsets = new HashMap<>();
    long peak = layout(p, order, o -> o.op().device().equals("/gpu:0"), o -> 4L * o.shape().numElements(), offsets);
    // 1000 floats = 4000 bytes, aligned to 4096; an op's input and output are live together.
    assertEquals(2 * 4096, peak);
    assertEquals(11, offsets.size(), "10 ops and the copy of x to the device");
  }

  @Test
  void valuesLiveAtTheSameTimeNeverOverlap() {
    CudaSessionTest.Net net = new CudaSessionTest.Net(24, 40, 6, 0.1f, 3);
    Program p = placed(net.g, List.of(net.loss), List.of(net.train), Set.of(net.x, net.labels));
    List<Operation> order = order(p);
    Map<Output, Long> offsets = new HashMap<>();
    int batch = 5;
    // Concrete sizes: the batch dimension is 5.
    java.util.function.ToLongFunction<Output> bytes = o -> {
      long n = 1;
      for (int d : o.shape().dims()) {
        n *= d < 0 ? batch : d;
      }
      return 4L * n;
    };
    java.util.function.Predicate<Output> inArena = o -> o.op().device().equals("/gpu:0") && !CudaPlan.isView(o.op())
        && !Set.of("Variable", "Const", "Assign", "AssignAdd", "AssignSub", "NoOp").contains(o.op().type());
    long peak = layout(p, order, inArena, bytes, offsets);
    // Live interval of a value: from its producer's step to its last reader's (independently computed).
    Map<Output, int[]> live = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      for (Output o : order.get(i).outputs()) {
        if (offsets.containsKey(o)) {
          live.put(o, new int[] {i, i});
        }
      }
    }
    Map<Output, Output> root = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      Operation op = order.get(i);
      for (Output in : op.inputs()) {
        Output r = root.getOrDefault(in, in);
        if (live.containsKey(r)) {
          live.get(r)[1] = Math.max(live.get(r)[1], i);
        }
      }
      if (CudaPlan.isView(op)) {
        root.put(op.output(0), root.getOrDefault(op.input(0), op.input(0)));
      }
    }
    for (Output f : p.fetches()) {
      Output r = root.getOrDefault(f, f);
      if (live.containsKey(r)) {
        live.get(r)[1] = Integer.MAX_VALUE;
      }
    }
    List<Output> values = new ArrayList<>(offsets.keySet());
    long total = 0;
    for (Output a : values) {
      total += dev.kiln.runtime.plan.ArenaLayout.align(bytes.applyAsLong(a), CudaPlan.ALIGN);
      for (Output b : values) {
        if (a == b) {
          continue;
        }
        boolean together = live.get(a)[0] <= live.get(b)[1] && live.get(b)[0] <= live.get(a)[1];
        long a0 = offsets.get(a);
        long a1 = a0 + bytes.applyAsLong(a);
        long b0 = offsets.get(b);
        long b1 = b0 + bytes.applyAsLong(b);
        if (together) {
          assertTrue(a1 <= b0 || b1 <= a0, a + " and " + b + " are live together and overlap");
        }
      }
      assertTrue(offsets.get(a) + bytes.applyAsLong(a) <= peak);
    }
    assertTrue(peak < total, "buffers are reused: peak " + peak + " < sum " + total);
  }
}
