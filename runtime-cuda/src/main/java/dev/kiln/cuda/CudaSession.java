package dev.kiln.cuda;

import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.optimizer.DeviceDescription;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.SessionOptions;
import dev.kiln.runtime.plan.Feeds;
import dev.kiln.runtime.plan.PlanKey;

/**
 * Runs a graph on a CUDA GPU (TensorFlow 1.x semantics, as the CPU {@code Session}): each run
 * signature is compiled once into a {@link CudaPlan} — pruned, placed (ops without a device kernel
 * fall back to the host, with copies at the boundaries), one device arena, kernels generated and
 * loaded. Variables stay on the device across runs. Runs are serialized (one stream).
 *
 * <pre>{@code
 * try (CudaSession s = new CudaSession(g)) {
 *   s.run(init);
 *   List<Tensor> out = s.run(Map.of(x, xv), List.of(loss), List.of(train));
 * }
 * }</pre>
 */
public final class CudaSession implements AutoCloseable {
  private final Graph graph;
  private final CudaContext ctx;
  private final boolean ownsContext;
  private final Map<String, CudaVariable> variables = new HashMap<>();
  private final Map<String, long[]> randomCounters = new HashMap<>();
  private final Map<PlanKey, CudaPlan> plans = new HashMap<>();
  private boolean closed;
  private boolean cudaGraphs = SessionOptions.defaults().graphReplay();
  private int maxCachedPlans = SessionOptions.defaults().maxCachedPlans();
  /** The graph optimizer each plan's program goes through before placement (a routed Session's pipeline). */
  private final UnaryOperator<Program> optimizer;

  /** A Session on GPU 0; fails with "no CUDA device: reason" where there is none. */
  public CudaSession(Graph graph) {
    this(graph, openDefault(), true, UnaryOperator.identity());
  }

  /** A Session on an opened device (the one device discovery found). */
  public CudaSession(Graph graph, CudaDevice device) {
    this(graph, device.ctx, false, UnaryOperator.identity());
  }

  /** What a {@code Session} routed to this device runs on: its optimizer before placement. */
  CudaSession(Graph graph, CudaDevice device, UnaryOperator<Program> optimizer) {
    this(graph, device.ctx, false, optimizer);
  }

  private CudaSession(Graph graph, CudaContext ctx, boolean ownsContext, UnaryOperator<Program> optimizer) {
    this.graph = Objects.requireNonNull(graph, "graph");
    this.ctx = ctx;
    this.ownsContext = ownsContext;
    this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
  }

  UnaryOperator<Program> optimizer() {
    return optimizer;
  }

  private static CudaContext openDefault() {
    if (!CudaAvailable.isAvailable()) {
      throw new IllegalStateException("no CUDA device: " + CudaAvailable.reason());
    }
    return CudaContext.open(0);
  }

  public Graph graph() {
    return graph;
  }

  public DeviceDescription device() {
    return ctx.description;
  }

  /**
   * Replays each plan that allows it (no host-placed work mid-run, no random draws, no transfer too
   * large for the plan's pinned area) as one CUDA graph captured on its second run, so a run is one
   * launch after the feeds are staged. On by default ({@link SessionOptions#graphReplay()}, which
   * {@code -Dkiln.cuda.graphs=false} turns off); a capture the driver refuses falls back to
   * step-by-step runs.
   */
  public CudaSession cudaGraphs(boolean on) {
    synchronized (ctx) {
      cudaGraphs = on;
      plans.values().forEach(p -> p.useCudaGraph(on));
      return this;
    }
  }

  /**
   * How many compiled plans this Session keeps ({@link SessionOptions#maxCachedPlans()}); as on the
   * CPU, a new plan past the limit drops the cached ones, and dropping a plan frees its device memory.
   */
  public CudaSession maxCachedPlans(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("maxCachedPlans must be at least 1, got " + n);
    }
    synchronized (ctx) {
      maxCachedPlans = n;
      return this;
    }
  }

  /** Whether matrix products go through cuBLAS (else the generated tiled kernel). */
  public boolean usesCublas() {
    return ctx.gemm.hasCublas();
  }

  public void run(Operation... targets) {
    run(Map.of(), List.of(), List.of(targets));
  }

  public List<Tensor> run(Map<Output, Tensor> feeds, Output... fetches) {
    return run(feeds, List.of(fetches), List.of());
  }

  /** Runs with feeds; returns the fetched values in order; runs the targets for their effects. */
  public List<Tensor> run(Map<Output, Tensor> feeds, List<Output> fetches, List<Operation> targets) {
    Output[] outs = new Output[feeds.size()];
    Tensor[] values = new Tensor[feeds.size()];
    int i = 0;
    for (Map.Entry<Output, Tensor> e : feeds.entrySet()) {
      outs[i] = e.getKey();
      values[i++] = e.getValue();
    }
    return run(outs, values, fetches.toArray(Output[]::new), targets.toArray(Operation[]::new));
  }

  /** One run from parallel arrays of fed outputs and values (what a routed {@code Session} calls). */
  List<Tensor> run(Output[] fedOutputs, Tensor[] fedValues, Output[] fetches, Operation[] targets) {
    synchronized (ctx) {
      requireOpen();
      Output[] outs = fedOutputs.clone();
      Tensor[] values = fedValues.clone();
      for (int i = 0; i < outs.length; i++) {
        Output o = Objects.requireNonNull(outs[i], "fed output is null");
        Objects.requireNonNull(values[i], () -> "value fed for '" + o.name() + "' is null");
      }
      PlanKey.sortFeeds(outs, values);
      for (int i = 0; i < outs.length; i++) {
        requireOwn(outs[i].op(), "fed value");
        Feeds.check(outs[i], values[i]);
      }
      for (Output f : fetches) {
        requireOwn(Objects.requireNonNull(f, "fetch is null").op(), "fetch");
      }
      for (Operation t : targets) {
        requireOwn(Objects.requireNonNull(t, "target is null"), "target");
      }
      PlanKey key = new PlanKey(outs, values, fetches.clone(), targets.clone());
      ctx.makeCurrent();
      CudaPlan plan = plans.get(key);
      if (plan == null) {
        // A failed compile (bad graph, out of memory) caches nothing and frees what it took.
        plan = new CudaPlan(this, ctx, outs, values, fetches, targets);
        plan.useCudaGraph(cudaGraphs);
        if (plans.size() >= maxCachedPlans) {
          plans.values().forEach(CudaPlan::close);
          plans.clear();
        }
        plans.put(key, plan);
      }
      for (CudaVariable v : plan.mustBeInitialized()) {
        if (!v.isInitialized()) {
          throw v.uninitialized();
        }
      }
      plan.residency().forEach(this::moveTo);
      List<Tensor> out = plan.run(values);
      for (CudaVariable v : plan.written()) {
        v.setInitialized(true);
      }
      return out;
    }
  }

  /**
   * Sets variables to the given values (copied), between runs; each must belong to this graph and
   * match its variable's type (checked for all before any is set).
   */
  public void assignVariables(Map<Variable, Tensor> values) {
    for (Map.Entry<Variable, Tensor> e : values.entrySet()) {
      Variable v = Objects.requireNonNull(e.getKey(), "variable");
      Tensor t = Objects.requireNonNull(e.getValue(), () -> "assignVariables: value for variable '" + v.name() + "' is null");
      if (v.graph() != graph) {
        throw new IllegalArgumentException("assignVariables: variable '" + v.name() + "' belongs to another graph than this Session's");
      }
      if (!t.type().equals(v.type())) {
        throw new IllegalArgumentException("assignVariables: variable '" + v.name() + "' is " + v.type()
            + ", got a tensor of " + t.type());
      }
    }
    synchronized (ctx) {
      requireOpen();
      for (Map.Entry<Variable, Tensor> e : values.entrySet()) {
        CudaVariable s = variable(e.getKey().op());
        // The host copy becomes the value; the next plan that places the variable on the device uploads it.
        System.arraycopy(HostBuffers.array(e.getValue()), 0, s.storage, 0, s.size);
        s.onDevice = false;
        s.setInitialized(true);
      }
    }
  }

  /** A copy of a variable's current value; fails if it was never initialized. */
  public Tensor variableValue(Variable v) {
    synchronized (ctx) {
      requireOpen();
      CudaVariable s = initialized(v, "variableValue");
      ctx.makeCurrent();
      return hostCopy(s);
    }
  }

  /**
   * Copies of the values of {@code vars}, in their order, read together between runs (runs hold the
   * same monitor, so no run's assigns are half seen). Fails, copying nothing, if one belongs to
   * another graph or was never initialized.
   */
  public Map<Variable, Tensor> variableValues(List<Variable> vars) {
    synchronized (ctx) {
      requireOpen();
      CudaVariable[] states = new CudaVariable[vars.size()];
      for (int i = 0; i < states.length; i++) {
        states[i] = initialized(Objects.requireNonNull(vars.get(i), "variableValues: a variable is null"), "variableValues");
      }
      ctx.makeCurrent();
      Map<Variable, Tensor> values = new LinkedHashMap<>();
      for (int i = 0; i < states.length; i++) {
        values.put(vars.get(i), hostCopy(states[i]));
      }
      return Collections.unmodifiableMap(values);
    }
  }

  private CudaVariable initialized(Variable v, String what) {
    requireOwn(v.op(), what);
    CudaVariable s = variables.get(v.name());
    if (s == null || !s.isInitialized()) {
      throw new IllegalStateException("Variable '" + v.name() + "' is uninitialized: run its initializer first");
    }
    return s;
  }

  /** The variable's value in a new host array (downloaded first if the device holds the latest). */
  private Tensor hostCopy(CudaVariable s) {
    if (s.onDevice) {
      download(s);
    }
    Object copy = HostBuffers.allocate(s.type.dtype(), s.size);
    System.arraycopy(s.storage, 0, copy, 0, s.size);
    return HostBuffers.adopt(s.type.dtype(), s.type.shape(), copy);
  }

  /** Device memory this Session holds: plan arenas, constants, variables (bytes). */
  public long deviceBytesInUse() {
    synchronized (ctx) {
      long total = 0;
      for (CudaPlan p : plans.values()) {
        total += p.deviceBytes();
      }
      for (CudaVariable v : variables.values()) {
        total += v.device != null ? v.bytes() : 0;
      }
      return total;
    }
  }

  /**
   * Benchmark diagnostics: the device time of one run of an already compiled plan with no feeds,
   * measured with CUDA events around {@code reps} runs enqueued back to back (no host sync between
   * them), in ms. Compare with the wall time per run to see the host's share.
   */
  double deviceMillisPerRun(List<Output> fetches, List<Operation> targets, int reps) {
    synchronized (ctx) {
      ctx.makeCurrent();
      return compiled(fetches, targets).deviceMillis(reps);
    }
  }

  /** Benchmark diagnostics: device ms per run by node (see {@link CudaPlan#profile}). */
  Map<String, Double> profile(List<Output> fetches, List<Operation> targets, int reps) {
    synchronized (ctx) {
      ctx.makeCurrent();
      return compiled(fetches, targets).profile(reps);
    }
  }

  private CudaPlan compiled(List<Output> fetches, List<Operation> targets) {
    CudaPlan plan = plans.get(new PlanKey(new Output[0], new Tensor[0], fetches.toArray(Output[]::new),
        targets.toArray(Operation[]::new)));
    if (plan == null) {
      throw new IllegalStateException("no compiled plan for " + fetches + " / " + targets + ": run it first");
    }
    return plan;
  }

  /** Free device memory as the driver reports it (bytes). */
  public long deviceFreeBytes() {
    synchronized (ctx) {
      ctx.makeCurrent();
      return ctx.memoryInfo()[0];
    }
  }

  public int planCount() {
    synchronized (ctx) {
      return plans.size();
    }
  }

  @Override
  public void close() {
    synchronized (ctx) {
      if (closed) {
        return;
      }
      closed = true;
      ctx.makeCurrent();
      ctx.synchronize();
      plans.values().forEach(CudaPlan::close);
      plans.clear();
      for (CudaVariable v : variables.values()) {
        ctx.free(v.device);
        v.device = null;
      }
      variables.clear();
      if (ownsContext) {
        ctx.close();
      }
    }
  }

  // ------------------------------------------------------------------ for plans

  CudaVariable variable(Operation var) {
    return variables.computeIfAbsent(var.name(), n -> new CudaVariable(var));
  }

  void ensureDeviceBuffer(CudaVariable v) {
    if (v.device == null) {
      v.device = ctx.allocate(v.bytes(), "variable '" + v.name() + "'");
    }
  }

  long reserveRandom(String op, long seed, long n) {
    long[] next = randomCounters.computeIfAbsent(op, k -> new long[1]);
    long first = next[0];
    next[0] += n;
    return first;
  }

  /** Puts a variable's value on the side a plan placed it (copying between runs, synchronously). */
  private void moveTo(CudaVariable v, boolean device) {
    if (v.onDevice == device) {
      return;
    }
    if (v.isInitialized()) {
      if (device) {
        ensureDeviceBuffer(v);
        ctx.staging.upload(v.storage, v.size, v.device);
      } else {
        download(v);
      }
    }
    v.onDevice = device;
  }

  private void download(CudaVariable v) {
    ctx.staging.download(v.device, v.storage, v.size);
  }

  private void requireOwn(Operation op, String what) {
    Feeds.requireInGraph(graph, op, what);
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("CudaSession is closed");
    }
  }
}
