package dev.kiln.runtime;

import dev.kiln.runtime.exec.Plan;
import dev.kiln.runtime.exec.PlanCompiler;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.RandomStream;
import dev.kiln.runtime.kernels.StateKernels;

import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.plan.PlanKey;
import dev.kiln.runtime.plan.VariableState;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.StampedLock;

/**
 * Runs a {@link Graph} many times, with feed dictionaries (TensorFlow 1.x semantics): on the CPU, or
 * on the accelerator device discovery finds ({@link java.util.ServiceLoader}: with the
 * {@code runtime-cuda} module on the class path and a GPU and driver present, runs execute on the
 * GPU, through the same optimizer; {@code SessionOptions.builder().device("/cpu:0")} keeps them on
 * the CPU; with no device the log says why once, and runs stay on the CPU). {@link #device()} says
 * which.
 *
 * <pre>{@code
 * try (Session s = new Session(g)) {
 *   s.run(init);
 *   List<Tensor> out = s.run(Map.of(x, xv, y, yv), loss, newW1);
 *   List<Tensor> r = s.runner().feed(x, xv).fetch(loss).addTarget(trainOp).run();
 * }
 * }</pre>
 *
 * <p>A run executes only what its fetches and targets need. Feeding any output (not only a
 * placeholder) overrides its value. Fed tensors are checked against the fed output's type (dtype and
 * every known dimension) before anything runs. Each run signature (fed outputs with their dtypes
 * and shapes, fetches, targets) is compiled once into a cached plan.
 *
 * <p>Variables live in the Session and keep their values across runs. Within one run every read of a
 * variable sees its value from before the run's assigns to it, unless a path (data or control
 * dependency) orders the read after an assign; several assigns to one variable in a run apply in
 * graph creation order. Reads alias the variable's storage (views such as Identity do not copy), so
 * the plan orders each read before the assigns it must not see; where that is impossible (e.g.
 * {@code assign(a, b)} with {@code assign(b, a)}: a swap) the variable is read through a copy taken
 * before its first assign, and a run that still cannot be ordered fails naming the nodes involved.
 * An update computed only for its Assign ({@code assign(w, w - lr * g)}) is written straight into
 * the variable, after every read that must see the old value. Fetched tensors belong to the caller,
 * except in {@link Runner#runNoCopy()}'s {@link Result}, which lends fetched variables until it is closed.
 *
 * <p>Failures: feeds, shapes and variable initialization are checked before anything runs, and a
 * run's assigns are scheduled after the rest of its work, so a failed run leaves the variables as
 * they were; where control dependencies order kernels after an assign, the run saves the variables
 * it writes and restores them if a kernel fails (e.g. integer division by zero).
 *
 * <p>Thread safety: {@code run} may be called from many threads at once. Runs that only read
 * variables execute concurrently; a run that assigns a variable executes alone, so concurrent runs
 * with assigns behave as if they ran one after another in some order (each run's assigns are atomic
 * with respect to other runs). Random ops reserve their numbers per run, so concurrent runs of one
 * random op draw different values in an unspecified order.
 */
public final class Session implements AutoCloseable {
  private final Graph graph;
  private final SessionOptions options;
  private final java.util.Optional<dev.kiln.runtime.spi.Device> device;
  /** Where runs go when a device runs this Session; empty: the CPU plans below. */
  private final java.util.Optional<dev.kiln.runtime.spi.DeviceSession> onDevice;
  private final ConcurrentHashMap<PlanKey, Plan> plans = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Operation, VariableState> variables = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Operation, RandomStream> randoms = new ConcurrentHashMap<>();
  /** Streams of random nodes inside control-flow bodies, by their path (see {@link #bodyRandomStream}). */
  private final ConcurrentHashMap<String, RandomStream> bodyRandoms = new ConcurrentHashMap<>();
  private final StampedLock lock = new StampedLock();
  private volatile boolean closed;

  public Session(Graph graph) {
    this(graph, SessionOptions.defaults());
  }

  public Session(Graph graph, SessionOptions options) {
    this(graph, options, dev.kiln.runtime.spi.Devices.discovered());
  }

  /** A Session on {@code found} (the device discovery found, or a test's), unless the options ask for the CPU. */
  Session(Graph graph, SessionOptions options, java.util.Optional<dev.kiln.runtime.spi.Device> found) {
    this.graph = Objects.requireNonNull(graph, "Session: graph is null");
    this.options = Objects.requireNonNull(options, "Session: options is null");
    java.util.Optional<dev.kiln.runtime.spi.Device> d = options.device().equals("/cpu:0") ? java.util.Optional.empty() : found;
    this.onDevice = d.flatMap(x -> x.openSession(graph, this::optimizeForDevice, options));
    this.device = onDevice.isPresent() ? d : java.util.Optional.empty();
  }

  /** The Session's optimizer pipeline (its options applied), for a device that compiles its own plans. */
  private dev.kiln.optimizer.Program optimizeForDevice(dev.kiln.optimizer.Program p) {
    return options.optimize() ? PlanCompiler.optimize(p, options) : p;
  }

  /**
   * The accelerator this Session's runs execute on: the one device discovery found (looked up once
   * per JVM through ServiceLoader; with none the log says once why), unless the options ask for the
   * CPU. Empty: runs execute on the CPU.
   */
  public java.util.Optional<dev.kiln.optimizer.DeviceDescription> device() {
    return device.map(dev.kiln.runtime.spi.Device::description);
  }

  public Graph graph() {
    return graph;
  }

  public SessionOptions options() {
    return options;
  }

  /** Runs {@code targets} (and what they need), fetching nothing. */
  public void run(Operation... targets) {
    execute(new Output[0], new Tensor[0], new Output[0], Objects.requireNonNull(targets, "run: targets is null").clone());
  }

  /** Runs with {@code feeds} and returns the values of {@code fetches}, in order. */
  public List<Tensor> run(Map<Output, Tensor> feeds, Output... fetches) {
    Objects.requireNonNull(feeds, "run: feeds is null");
    Objects.requireNonNull(fetches, "run: fetches is null");
    Output[] outs = new Output[feeds.size()];
    Tensor[] values = new Tensor[feeds.size()];
    int i = 0;
    for (Map.Entry<Output, Tensor> e : feeds.entrySet()) {
      outs[i] = Objects.requireNonNull(e.getKey(), "run: a fed output is null");
      values[i++] = Objects.requireNonNull(e.getValue(), () -> "run: value fed for '" + e.getKey().name() + "' is null");
    }
    return execute(outs, values, fetches.clone(), new Operation[0]);
  }

  /** A builder for one run: feeds, fetches and targets by object or by name. */
  public Runner runner() {
    return new Runner();
  }

  /**
   * A copy of a variable's current value; fails if it was never initialized. To read several
   * variables as one state while other threads run, use {@link #variableValues}.
   */
  public Tensor variableValue(Variable v) {
    Objects.requireNonNull(v, "variableValue: variable is null");
    requireOwnVariable(v, "variableValue");
    if (onDevice.isPresent()) {
      requireOpen();
      return onDevice.get().variableValue(v);
    }
    long stamp = lock.readLock();
    try {
      requireOpen();
      return copyOf(initializedState(v));
    } finally {
      lock.unlockRead(stamp);
    }
  }

  /**
   * Copies of the values of {@code vars}, read together at one point between runs: a run's assigns
   * are seen all or not at all (a run that assigns executes alone, before or after this read), so the
   * values are a state the variables really had at once, as a checkpoint taken while other threads
   * train needs. Runs that only read variables go on meanwhile; runs that assign wait for the copy.
   * The map is unmodifiable, in the order of {@code vars}. Fails, copying nothing, if a variable is
   * null, belongs to another graph or was never initialized.
   */
  public Map<Variable, Tensor> variableValues(Collection<Variable> vars) {
    Objects.requireNonNull(vars, "variableValues: the collection of variables is null");
    List<Variable> list = new ArrayList<>(vars.size());
    for (Variable v : vars) {
      Objects.requireNonNull(v, "variableValues: a variable is null");
      requireOwnVariable(v, "variableValues");
      list.add(v);
    }
    if (onDevice.isPresent()) {
      requireOpen();
      return onDevice.get().variableValues(List.copyOf(list));
    }
    long stamp = lock.readLock();
    try {
      requireOpen();
      VariableState[] states = new VariableState[list.size()];
      for (int i = 0; i < states.length; i++) {
        states[i] = initializedState(list.get(i));
      }
      Map<Variable, Tensor> values = new LinkedHashMap<>();
      for (int i = 0; i < states.length; i++) {
        values.put(list.get(i), copyOf(states[i]));
      }
      return Collections.unmodifiableMap(values);
    } finally {
      lock.unlockRead(stamp);
    }
  }

  private VariableState initializedState(Variable v) {
    VariableState s = variables.get(v.op());
    if (s == null || !s.isInitialized()) {
      throw new VariableState(v.op()).uninitialized();
    }
    return s;
  }

  private static Tensor copyOf(VariableState s) {
    return HostBuffers.adopt(s.type.dtype(), s.type.shape(), StateKernels.copy(s.storage, s.size));
  }

  /**
   * Sets variables to the given values (copied). Every entry is checked first (the variable belongs to
   * this Session's graph, dtype and shape match); then all are applied at once, between runs.
   */
  public void assignVariables(Map<Variable, Tensor> values) {
    Objects.requireNonNull(values, "assignVariables: values is null");
    for (Map.Entry<Variable, Tensor> e : values.entrySet()) {
      Variable v = Objects.requireNonNull(e.getKey(), "assignVariables: a variable is null");
      Tensor t = Objects.requireNonNull(e.getValue(), () -> "assignVariables: value for variable '" + v.name() + "' is null");
      requireOwnVariable(v, "assignVariables");
      if (!t.type().equals(v.type())) {
        throw new IllegalArgumentException("assignVariables: variable '" + v.name() + "' is " + v.type()
            + ", got a tensor of " + t.type());
      }
    }
    if (onDevice.isPresent()) {
      requireOpen();
      onDevice.get().assignVariables(values);
      return;
    }
    long stamp = lock.writeLock();
    try {
      requireOpen();
      for (Variable v : values.keySet()) {
        variableState(v.op()).requireNotLent("assignVariables");
      }
      for (Map.Entry<Variable, Tensor> e : values.entrySet()) {
        VariableState s = variableState(e.getKey().op());
        System.arraycopy(HostBuffers.array(e.getValue()), 0, s.storage, 0, s.size);
        s.setInitialized(true);
      }
    } finally {
      lock.unlockWrite(stamp);
    }
  }

  /** Frees every plan and variable; later calls fail. Waits for runs in progress. */
  @Override
  public void close() {
    long stamp = lock.writeLock();
    try {
      if (!closed) {
        onDevice.ifPresent(dev.kiln.runtime.spi.DeviceSession::close);
      }
      closed = true;
      plans.clear();
      variables.clear();
      randoms.clear();
      bodyRandoms.clear();
    } finally {
      lock.unlockWrite(stamp);
    }
  }

  private void requireOwnVariable(Variable v, String what) {
    requireInGraph(v.op(), what + ": variable '" + v.name() + "'");
  }

  /**
   * Fails unless {@code op} is a node of this Session's graph: not another graph's, and not rolled
   * back by a failed {@code Graph.atomically} (a plan compiled before the roll-back may still hold it).
   */
  private void requireInGraph(Operation op, String what) {
    if (op.graph() != graph) {
      throw new IllegalArgumentException(what + " belongs to another graph than this Session's");
    }
    graph.requireContains(op, what);
  }

  /** As {@link #requireInGraph(Operation, String)} for a run's feed, fetch or target, with a message built only on failure. */
  private void requireInGraph(Operation op, String role, String name) {
    if (!graph.contains(op)) {
      requireInGraph(op, role + " " + (op.graph() == graph ? "'" + name + "'" : op.toString()));
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("Session is closed");
    }
  }

  public VariableState variableState(Operation var) {
    return variables.computeIfAbsent(var, VariableState::new);
  }

  public RandomStream randomStream(Operation op) {
    return randoms.computeIfAbsent(op, o -> new RandomStream(o.attrs().getLong("seed")));
  }

  /**
   * The stream of a random node inside a control-flow body, named by its path from the run's graph
   * (enclosing nodes' names and subgraph indices, then its own name): each plan compiles its bodies
   * from a fresh optimized copy, whose nodes keep their names, so the stream goes on across plans.
   */
  public RandomStream bodyRandomStream(String path, long seed) {
    return bodyRandoms.computeIfAbsent(path + "@" + seed, k -> new RandomStream(seed));
  }

  /** Plans compiled so far (for tests). */
  int planCount() {
    return plans.size();
  }

  java.util.Collection<Plan> plans() {
    return plans.values();
  }

  private List<Tensor> execute(Output[] feedOuts, Tensor[] feedValues, Output[] fetches, Operation[] targets) {
    return Collections.unmodifiableList(Arrays.asList(execute(feedOuts, feedValues, fetches, targets, null)));
  }

  /**
   * Runs one signature and returns the fetched values. With a {@code lender} (runNoCopy), fetched
   * values that are variable storage at the end of the run are lent to it instead of copied.
   */
  private Tensor[] execute(Output[] feedOuts, Tensor[] feedValues, Output[] fetches, Operation[] targets,
      Result lender) {
    requireOpen();
    for (Output o : feedOuts) {
      requireInGraph(o.op(), "feed", o.name());
    }
    for (int i = 0; i < fetches.length; i++) {
      if (fetches[i] == null) {
        throw new NullPointerException("run: fetch " + i + " is null");
      }
      requireInGraph(fetches[i].op(), "fetch", fetches[i].name());
    }
    for (int i = 0; i < targets.length; i++) {
      if (targets[i] == null) {
        throw new NullPointerException("run: target " + i + " is null");
      }
      requireInGraph(targets[i], "target", targets[i].name());
    }
    if (onDevice.isPresent()) {
      return onDevice.get().run(feedOuts, feedValues, fetches, targets).toArray(Tensor[]::new);
    }
    PlanKey.sortFeeds(feedOuts, feedValues);
    PlanKey key = new PlanKey(feedOuts, feedValues, fetches, targets, lender != null);
    Plan plan = plans.get(key);
    if (plan == null) {
      if (plans.size() >= options.maxCachedPlans()) {
        plans.clear();
      }
      plan = plans.computeIfAbsent(key, k -> PlanCompiler.compile(this, k, feedValues));
    }
    long stamp = plan.writes ? lock.writeLock() : lock.readLock();
    try {
      requireOpen();
      for (VariableState v : plan.mustBeInitialized) {
        if (!v.isInitialized()) {
          throw v.uninitialized();
        }
      }
      for (VariableState v : plan.written) {
        v.requireNotLent("this run");
      }
      Object[] frame = plan.acquireFrame();
      int[] feedSlots = plan.feedSlots;
      int[] resultSlots = plan.resultSlots;
      try {
        for (int i = 0; i < feedSlots.length; i++) {
          frame[feedSlots[i]] = HostBuffers.array(feedValues[i]);
        }
        if (plan.snapshotWrites) {
          runRestoringOnFailure(plan, frame);
        } else {
          for (Kernel k : plan.kernels) {
            k.run(frame);
          }
        }
        for (VariableState v : plan.written) {
          v.setInitialized(true);
        }
        Tensor[] out = new Tensor[resultSlots.length];
        for (int i = 0; i < out.length; i++) {
          out[i] = (Tensor) frame[resultSlots[i]];
        }
        if (lender != null) {
          lender.borrow(out, plan.lent);
        }
        return out;
      } finally {
        for (int s : feedSlots) {
          frame[s] = null;
        }
        for (int s : resultSlots) {
          frame[s] = null;
        }
        plan.releaseFrame(frame);
      }
    } finally {
      lock.unlock(stamp);
    }
  }

  /** Runs the kernels; if one fails, puts back the values the run's assigns had overwritten. */
  private static void runRestoringOnFailure(Plan plan, Object[] frame) {
    Object[] saved = new Object[plan.written.length];
    for (int i = 0; i < saved.length; i++) {
      saved[i] = StateKernels.copy(plan.written[i].storage, plan.written[i].size);
    }
    try {
      for (Kernel k : plan.kernels) {
        k.run(frame);
      }
    } catch (RuntimeException | Error e) {
      for (int i = 0; i < saved.length; i++) {
        System.arraycopy(saved[i], 0, plan.written[i].storage, 0, plan.written[i].size);
      }
      throw e;
    }
  }

  /** One run, built up step by step (TensorFlow Java's {@code Session.Runner}). */
  public final class Runner {
    private final List<Output> feedOuts = new ArrayList<>();
    private final List<Tensor> feedValues = new ArrayList<>();
    private final List<Output> fetches = new ArrayList<>();
    private final List<Operation> targets = new ArrayList<>();

    private Runner() {}

    /** Feeds {@code value} for {@code output} (a placeholder, or any output to override). */
    public Runner feed(Output output, Tensor value) {
      Objects.requireNonNull(output, "feed: output is null");
      Objects.requireNonNull(value, () -> "feed: value fed for '" + output.name() + "' is null");
      if (feedOuts.contains(output)) {
        throw new IllegalArgumentException("'" + output.name() + "' is already fed in this run");
      }
      feedOuts.add(output);
      feedValues.add(value);
      return this;
    }

    /** Feeds the output named {@code name} ({@code node} or {@code node:i}). */
    public Runner feed(String name, Tensor value) {
      return feed(graph.output(Objects.requireNonNull(name, "feed: name is null")), value);
    }

    public Runner fetch(Output output) {
      fetches.add(Objects.requireNonNull(output, "fetch: output is null"));
      return this;
    }

    /** Fetches the output named {@code name} ({@code node} or {@code node:i}). */
    public Runner fetch(String name) {
      return fetch(graph.output(Objects.requireNonNull(name, "fetch: name is null")));
    }

    public Runner addTarget(Operation op) {
      targets.add(Objects.requireNonNull(op, "addTarget: operation is null"));
      return this;
    }

    /** Adds the node named {@code name} as a target. */
    public Runner addTarget(String name) {
      return addTarget(graph.operation(Objects.requireNonNull(name, "addTarget: name is null")));
    }

    /** Runs and returns the fetched values, in the order they were added; they belong to the caller. */
    public List<Tensor> run() {
      return execute(feedOuts.toArray(Output[]::new), feedValues.toArray(Tensor[]::new),
          fetches.toArray(Output[]::new), targets.toArray(Operation[]::new));
    }

    /**
     * Runs like {@link #run()}, but fetched variables (reads, and assigns' new values) are the
     * Session's storage, lent to the returned {@link Result} until it is closed instead of copied:
     * for a training step that fetches its updated weights every time. A later run that writes one
     * of those variables fails while the Result is open.
     */
    public Result runNoCopy() {
      Output[] fetched = fetches.toArray(Output[]::new);
      Result result = new Result(fetched);
      return result.holding(execute(feedOuts.toArray(Output[]::new), feedValues.toArray(Tensor[]::new), fetched,
          targets.toArray(Operation[]::new), result));
    }
  }
}
