package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.KernelRegistry;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.spi.Device;
import dev.kiln.runtime.spi.DeviceSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** A Session routed to a device through the SPI: a fake device that records what it is asked. */
class SessionDeviceTest {
  private static final SessionOptions CPU = SessionOptions.builder().device("/cpu:0").build();

  /** Records every call; runs them on a CPU Session so results are real. */
  private static final class FakeDevice implements Device {
    final boolean runsSessions;
    final List<String> calls = new ArrayList<>();
    UnaryOperator<Program> optimizer;
    SessionOptions options;

    FakeDevice(boolean runsSessions) {
      this.runsSessions = runsSessions;
    }

    @Override
    public DeviceDescription description() {
      return DeviceDescription.fakeGpu();
    }

    @Override
    public KernelRegistry kernels() {
      return KernelRegistry.of(Set.of(), Set.of());
    }

    @Override
    public Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer, SessionOptions options) {
      this.options = options;
      return openSession(graph, optimizer);
    }

    @Override
    public Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer) {
      calls.add("open");
      this.optimizer = optimizer;
      if (!runsSessions) {
        return Optional.empty();
      }
      Session cpu = new Session(graph, CPU);
      return Optional.of(new DeviceSession() {
        @Override
        public List<Tensor> run(Output[] fed, Tensor[] values, Output[] fetches, Operation[] targets) {
          calls.add("run fed=" + Arrays.stream(fed).map(Output::name).toList() + " fetches="
              + Arrays.stream(fetches).map(Output::name).toList() + " targets=" + Arrays.stream(targets).map(Operation::name).toList());
          Session.Runner r = cpu.runner();
          for (int i = 0; i < fed.length; i++) {
            r.feed(fed[i], values[i]);
          }
          Arrays.stream(fetches).forEach(r::fetch);
          Arrays.stream(targets).forEach(r::addTarget);
          return r.run();
        }

        @Override
        public Tensor variableValue(Variable v) {
          calls.add("variableValue " + v.name());
          return cpu.variableValue(v);
        }

        @Override
        public Map<Variable, Tensor> variableValues(List<Variable> vars) {
          calls.add("variableValues " + vars.stream().map(Variable::name).toList());
          return cpu.variableValues(vars);
        }

        @Override
        public void assignVariables(Map<Variable, Tensor> values) {
          calls.add("assignVariables " + values.keySet().stream().map(Variable::name).toList());
          cpu.assignVariables(values);
        }

        @Override
        public void close() {
          calls.add("close");
          cpu.close();
        }
      });
    }

    @Override
    public void close() {}
  }

  private static float[] floats(Tensor t) {
    return (float[]) HostBuffers.array(t);
  }

  @Test
  void runsGoToTheDeviceSessionWithTheirFeedsFetchesAndTargets() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    Variable w = tf.variable("w", tf.constant(new float[] {1, 2}));
    Output y = tf.mul(x, w);
    Operation bump = tf.assignAdd(w, tf.constant(new float[] {10, 10})).op();
    FakeDevice d = new FakeDevice(true);
    try (Session s = new Session(g, SessionOptions.defaults(), Optional.of(d))) {
      assertEquals(Optional.of(DeviceDescription.fakeGpu()), s.device());
      s.run(tf.globalVariablesInitializer());
      List<Tensor> out = s.runner().feed(x, Tensor.of(new float[] {3, 4}, 2)).fetch(y).addTarget(bump).run();
      assertEquals(3f, floats(out.get(0))[0]); // 3 * 1: the read sees w from before the run's assign
      assertEquals(8f, floats(out.get(0))[1]);
      assertEquals(11f, floats(s.variableValue(w))[0]);
      s.assignVariables(Map.of(w, Tensor.of(new float[] {5, 6}, 2)));
      assertEquals(6f, floats(s.variableValue(w))[1]);
      assertEquals(5f, floats(s.variableValues(List.of(w)).get(w))[0]);
    }
    assertEquals(List.of("open", "run fed=[] fetches=[] targets=[init]", "run fed=[x] fetches=[Mul] targets=[AssignAdd]",
        "variableValue w", "assignVariables [w]", "variableValue w", "variableValues [w]", "close"), d.calls);
  }

  @Test
  void nullsAndForeignVariablesAreRejectedBeforeTheDeviceIsAsked() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable w = tf.variable("w", tf.constant(1f));
    Graph other = new Graph();
    Variable foreign = Ops.create(other).variable("v", Ops.create(other).constant(1f));
    FakeDevice d = new FakeDevice(true);
    try (Session s = new Session(g, SessionOptions.defaults(), Optional.of(d))) {
      NullPointerException e = assertThrows(NullPointerException.class, () -> s.run(Map.of(), (Output) null));
      assertEquals("run: fetch 0 is null", e.getMessage());
      IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> s.variableValue(foreign));
      assertEquals("variableValue: variable 'v' belongs to another graph than this Session's", f.getMessage());
      IllegalArgumentException fs = assertThrows(IllegalArgumentException.class, () -> s.variableValues(List.of(w, foreign)));
      assertEquals("variableValues: variable 'v' belongs to another graph than this Session's", fs.getMessage());
      IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
          () -> s.assignVariables(Map.of(w, Tensor.of(new float[] {1, 2}, 2))));
      assertEquals("assignVariables: variable 'w' is f32[], got a tensor of f32[2]", t.getMessage());
    }
    assertEquals(List.of("open", "close"), d.calls);
  }

  @Test
  void aClosedSessionFailsWithoutAskingTheDeviceAndClosesItOnce() {
    Graph g = new Graph();
    Output c = Ops.create(g).constant(2f);
    FakeDevice d = new FakeDevice(true);
    Session s = new Session(g, SessionOptions.defaults(), Optional.of(d));
    s.close();
    s.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.run(Map.of(), c));
    assertEquals("Session is closed", e.getMessage());
    assertEquals(List.of("open", "close"), d.calls);
  }

  @Test
  void theCpuOptionAndADeviceThatRunsNoSessionsKeepRunsOnTheCpu() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output y = tf.add(tf.constant(2f), tf.constant(3f));
    FakeDevice forced = new FakeDevice(true);
    try (Session s = new Session(g, CPU, Optional.of(forced))) {
      assertTrue(s.device().isEmpty());
      assertEquals(5f, floats(s.run(Map.of(), y).get(0))[0]);
    }
    assertEquals(List.of(), forced.calls);
    FakeDevice declines = new FakeDevice(false);
    try (Session s = new Session(g, SessionOptions.defaults(), Optional.of(declines))) {
      assertTrue(s.device().isEmpty());
      assertEquals(5f, floats(s.run(Map.of(), y).get(0))[0]);
    }
    assertEquals(List.of("open"), declines.calls);
    FakeDevice gpu = new FakeDevice(true);
    try (Session s = new Session(g, SessionOptions.builder().device("/gpu:0").build(), Optional.of(gpu))) {
      assertEquals(Optional.of(DeviceDescription.fakeGpu()), s.device());
    }
    try (Session s = new Session(g, SessionOptions.builder().device("/gpu:0").build(), Optional.empty())) {
      assertTrue(s.device().isEmpty(), "no device found: the CPU, never a failure");
      assertEquals(5f, floats(s.run(Map.of(), y).get(0))[0]);
    }
  }

  @Test
  void theDeviceGetsTheSessionsOptimizer() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output y = tf.add(tf.constant(2f), tf.constant(3f));
    Program p = new Program(g, List.of(y), List.of(), java.util.Set.of());
    FakeDevice on = new FakeDevice(true);
    new Session(g, SessionOptions.defaults(), Optional.of(on)).close();
    Program folded = on.optimizer.apply(p);
    assertEquals("Const", folded.fetches().get(0).op().type(), "fold replaced 2 + 3 by a constant");
    FakeDevice off = new FakeDevice(true);
    new Session(g, SessionOptions.builder().optimize(false).build(), Optional.of(off)).close();
    assertSame(p, off.optimizer.apply(p));
  }

  @Test
  void theDeviceIsGivenTheSessionsOptions() {
    Graph g = new Graph();
    Ops.create(g).constant(new float[] {1});
    FakeDevice d = new FakeDevice(true);
    SessionOptions stepByStep = SessionOptions.builder().graphReplay(false).build();
    new Session(g, stepByStep, Optional.of(d)).close();
    assertSame(stepByStep, d.options);
    assertEquals(false, d.options.graphReplay());
  }

  @Test
  void anUnknownDeviceNameIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SessionOptions.builder().device("/tpu:0"));
    assertEquals("device must be \"/cpu:0\", \"/gpu:0\" or \"\" (any), got \"/tpu:0\"", e.getMessage());
    assertEquals("SessionOptions(optimize=true, framesPerPlan=2, maxCachedPlans=1024, device=/cpu:0)",
        SessionOptions.builder().framesPerPlan(2).device("/cpu:0").build().toString());
  }
}
