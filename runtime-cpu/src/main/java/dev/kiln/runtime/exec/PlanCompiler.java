package dev.kiln.runtime.exec;

import dev.kiln.runtime.CpuConstantEvaluator;
import dev.kiln.runtime.CpuKernels;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;
import dev.kiln.runtime.kernels.StateKernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import dev.kiln.optimizer.Optimizer;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.plan.Feeds;
import dev.kiln.runtime.plan.MemoryPlanner;
import dev.kiln.runtime.plan.PlanKey;
import dev.kiln.runtime.plan.PlanRules;
import dev.kiln.runtime.plan.Schedule;
import dev.kiln.runtime.plan.VariableAliases;
import dev.kiln.runtime.plan.VariableState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a {@link Plan} for one run signature: validates the feeds, schedules the pruned graph,
 * infers every value's concrete type, lays out the frame (fed arrays, variable storage and constants
 * in their own slots, views aliasing their input's slot, kernel outputs in buffers reused once their
 * values are dead) and binds each node's kernel to its slots.
 */
public final class PlanCompiler {
  /**
   * The CPU's storage rules for the shared plan layer: VIEW ops alias their input; a built-in kernel
   * (which cannot fail midway) may write into a variable, over the inputs the kernel library allows.
   */
  public static final PlanRules RULES = new PlanRules() {
    @Override
    public boolean writesIntoVariable(Operation producer) {
      // A loop's outputs hold its state while it runs, and its bodies may read that variable.
      return Kernels.isBuiltin(producer.type()) && !(producer.def() instanceof dev.kiln.graph.ControlFlowOp);
    }

    @Override
    public boolean allowsInPlace(Operation producer, int input) {
      return Kernels.allowsInPlace(producer.type(), input);
    }
  };

  private final Session session;
  private final PlanKey key;
  /** The Session's options; the defaults for a body compiled without a Session. */
  private final SessionOptions options;
  /** For a body plan: the body whose nodes own the random streams (null for a run's plan). */
  private final dev.kiln.graph.Subgraph body;
  /** Random streams of a body compiled without a Session. */
  private final Map<Operation, dev.kiln.runtime.kernels.RandomStream> localRandoms = new HashMap<>();
  private final Set<Output> fed = new HashSet<>();
  private final Map<Output, TensorType> types = new HashMap<>();
  private final Map<Operation, List<TensorType>> outputTypes = new HashMap<>();
  private final Map<Output, Integer> slotOf = new HashMap<>();
  private final Map<Output, Integer> scratchSlotOf = new HashMap<>();
  private final Map<Operation, Integer> variableSlots = new LinkedHashMap<>();
  private final Map<Integer, Object> bindings = new HashMap<>();
  private MemoryPlanner.Plan memory;
  /** Variables read through a copy in this plan (see {@link Schedule#build}). */
  private final Set<Operation> snapshots = new HashSet<>();
  /** Kernel nodes that write straight into a variable's storage, and that variable. */
  private final Map<Operation, Operation> fused = new HashMap<>();
  private int nextSlot;
  private boolean sawAssign;
  /** A library kernel (which might fail) runs after some assign of the run. */
  private boolean kernelAfterAssign;
  private int bufferBase;

  private PlanCompiler(Session session, PlanKey key) {
    this(session, key, null);
  }

  private PlanCompiler(Session session, PlanKey key, dev.kiln.graph.Subgraph body) {
    this.session = session;
    this.key = key;
    this.body = body;
    this.options = session != null ? session.options() : SessionOptions.defaults();
  }

  /**
   * A compiler for the steps after {@code parent}'s loop whose variables change shape, now that they
   * have {@code shapes}: everything the parent laid out (and the loop's outputs) is read from the
   * parent's frame slots, and new slots start past them.
   */
  private PlanCompiler(PlanCompiler parent, List<dev.kiln.graph.Shape> shapes) {
    this(parent.session, parent.key, parent.body);
    fed.addAll(parent.fed);
    types.putAll(parent.types);
    outputTypes.putAll(parent.outputTypes);
    slotOf.putAll(parent.slotOf);
    scratchSlotOf.putAll(parent.scratchSlotOf);
    variableSlots.putAll(parent.variableSlots);
    snapshots.addAll(parent.snapshots);
    fused.putAll(parent.fused);
    sawAssign = parent.sawAssign;
    nextSlot = parent.frameSize;
    for (Schedule.Step st : parent.prefix) {
      if (st instanceof Schedule.OpStep(Operation op)) {
        fed.addAll(op.outputs());
      }
    }
    Operation loop = parent.dynamicLoop;
    List<TensorType> out = new ArrayList<>();
    for (int j = 0; j < loop.numOutputs(); j++) {
      TensorType t = new TensorType(loop.output(j).dtype(), shapes.get(j));
      types.put(loop.output(j), t);
      out.add(t);
    }
    outputTypes.put(loop, List.copyOf(out));
  }

  /**
   * Compiles a control-flow body ({@link ControlFlowKernels}) once for concrete parameter types: a plan
   * whose {@link Plan#feedSlots} take the parameters' arrays and whose {@link Plan#resultSlots} hold
   * the results' arrays after its kernels ran (no copies out). Random nodes of the body draw from
   * {@code session}'s streams (their own when it is null), so each iteration draws fresh values.
   */
  public static Plan compileBody(Session session, dev.kiln.graph.Subgraph body, List<TensorType> parameterTypes,
      int carried) {
    return compileBody(session, body, parameterTypes, carried, "");
  }

  /** As {@link #compileBody(Session, dev.kiln.graph.Subgraph, List, int)}, the body at path {@code scope}. */
  public static Plan compileBody(Session session, dev.kiln.graph.Subgraph body, List<TensorType> parameterTypes,
      int carried, String scope) {
    PlanCompiler c = new PlanCompiler(session, null, body);
    c.scope = scope;
    return c.compileBody(parameterTypes, carried);
  }

  /**
   * A body the optimizer already rewrote ({@link #optimizeBody}), compiled once per shape of its
   * loop values: the pipeline need not run again for each.
   */
  static Plan compileOptimizedBody(Session session, dev.kiln.graph.Subgraph body, List<TensorType> parameterTypes,
      String scope) {
    PlanCompiler c = new PlanCompiler(session, null, body);
    c.scope = scope;
    c.preOptimized = true;
    return c.compileBody(parameterTypes, 0);
  }

  /** {@code body} rewritten by the Session's pipeline (itself when optimization is off), keeping its Parameters. */
  static dev.kiln.graph.Subgraph optimizeBody(Session session, dev.kiln.graph.Subgraph body) {
    SessionOptions options = session != null ? session.options() : SessionOptions.defaults();
    if (!options.optimize()) {
      return body;
    }
    List<Operation> params = body.parameters().stream().map(Output::op).toList();
    Program out = optimize(new Program(body.graph(), body.results(), params, Set.copyOf(body.parameters())), options);
    return new dev.kiln.graph.Subgraph(out.graph(), out.targets().stream().map(op -> op.output(0)).toList(),
        out.fetches());
  }

  private boolean preOptimized;

  /**
   * For a body plan: the path of its body from the run's graph ({@code node#subgraph/} per level),
   * which names its random nodes' streams; "" for a run's plan.
   */
  private String scope = "";

  /** The scope of subgraph {@code k} of {@code op}, a control-flow node of this plan. */
  String scopeOf(Operation op, int k) {
    return scope + op.name() + "#" + k + "/";
  }

  /**
   * Loop results computed in their parameter's own buffer (see {@link #carryInPlace}): the kernel
   * writes the next value over the current one, which nothing else reads.
   */
  private final Set<Output> carriedInPlace = new HashSet<>();

  /**
   * The first loop (in run order) whose variables change shape, whose outputs have no concrete shape
   * until it ran; the steps up to it ({@code prefix}); their outputs' slots and the slots their shapes
   * go to; and the frame length of the steps up to it. Null when no loop changes shape.
   */
  private Operation dynamicLoop;
  private List<Schedule.Step> prefix = List.of();
  private final Map<Output, Integer> dynamicSlots = new HashMap<>();
  private int[] dynamicShapeSlots = new int[0];
  private int frameSize;

  /** A While's stacked outputs ({@code ControlFlowOp.NUM_STACKED}) and their slots. */
  private final Map<Output, Integer> stackSlots = new LinkedHashMap<>();

  private static boolean isStack(Output o) {
    Operation op = o.op();
    if (!(op.def() instanceof dev.kiln.graph.ControlFlowOp.While)) {
      return false;
    }
    long k = op.attrs().getLong(dev.kiln.graph.ControlFlowOp.NUM_STACKED);
    return o.index() >= op.numOutputs() - k;
  }

  /** Gives the plan's frames their stacks. */
  private Plan withStacks(Plan plan) {
    plan.stackSlots = stackSlots.values().stream().mapToInt(Integer::intValue).toArray();
    plan.stackTypes = stackSlots.keySet().stream().map(Output::dtype).toArray(DType[]::new);
    return plan;
  }

  private Plan compileBody(List<TensorType> parameterTypes, int carried) {
    List<Output> params = body.parameters();
    for (int i = 0; i < params.size(); i++) {
      fed.add(params.get(i));
      types.put(params.get(i), parameterTypes.get(i));
      slotOf.put(params.get(i), nextSlot++);
    }
    List<Output> fetches = body.results();
    List<Output> feeds = params;
    if (options.optimize() && !preOptimized) {
      Program optimized = optimize(new Program(body.graph(), fetches, List.of(), fed));
      List<Output> mapped = new ArrayList<>();
      for (Output o : params) {
        Output m = optimized.graph().findOperation(o.op().name()).map(op -> op.output(o.index())).orElse(null);
        mapped.add(m != null && optimized.fed().contains(m) ? m : o);
        if (m != null && m != o) {
          types.put(m, types.get(o));
          slotOf.put(m, slotOf.get(o));
        }
      }
      fed.clear();
      fed.addAll(mapped);
      feeds = mapped;
      fetches = optimized.fetches();
    }
    Schedule schedule = Schedule.build(fed, fetches, List.of(), RULES);
    // The results are read when the body's kernels are done: keep them alive to the end.
    List<Schedule.Step> steps = new ArrayList<>();
    List<Schedule.Step> reads = new ArrayList<>();
    for (Schedule.Step st : schedule.steps()) {
      (st instanceof Schedule.FetchStep ? reads : steps).add(st);
    }
    steps.addAll(reads);
    int split = inferTypes(steps);
    if (split < steps.size()) {
      throw new IllegalArgumentException(((Schedule.OpStep) steps.get(split)).op() + ": a loop variable changes"
          + " shape across iterations inside another loop or conditional; the CPU runtime runs such loops only"
          + " at a run's top level");
    }
    for (int j = 0; j < carried; j++) {
      carryInPlace(steps, feeds, fetches, j);
    }
    layOutSpecialSlots(steps);
    allocateBuffers(steps);
    Kernel[] kernels = bindKernels(steps, new int[0], new Plan.Lent[fetches.size()]);
    int[] resultSlots = new int[fetches.size()];
    for (int k = 0; k < resultSlots.length; k++) {
      resultSlots[k] = slotOf.get(fetches.get(k));
    }
    Object[] template = new Object[nextSlot];
    bindings.forEach((slot, array) -> template[slot] = array);
    int[] slots = bufferSlots();
    int[] sizes = bufferSizes();
    int[] feedSlots = new int[feeds.size()];
    for (int i = 0; i < feedSlots.length; i++) {
      feedSlots[i] = slotOf.get(feeds.get(i));
    }
    List<TensorType> resultTypes = new ArrayList<>();
    for (Output f : fetches) {
      resultTypes.add(types.get(f));
    }
    Plan plan = new Plan(kernels, feedSlots, resultSlots, new VariableState[0], new VariableState[0], false, template,
        slots, memory.bufferTypes(), sizes, options.framesPerPlan(), memory, new Plan.Lent[fetches.size()]);
    plan.resultTypes = List.copyOf(resultTypes);
    return withStacks(plan);
  }

  /**
   * Lets loop result {@code j} live in loop parameter {@code j}'s buffer when its producer's kernel
   * may write over that parameter (a tensor-array write, an elementwise update) and nothing else in
   * the body reads the parameter: the loop then neither copies nor swaps that variable.
   */
  private void carryInPlace(List<Schedule.Step> steps, List<Output> feeds, List<Output> fetches, int j) {
    Output param = feeds.get(j);
    Output r = fetches.get(j);
    Operation p = r.op();
    if (fed.contains(r) || !computes(p) || !types.get(param).equals(types.get(r)) || fetches.indexOf(r) != j
        || fetches.contains(param) || p.def() instanceof dev.kiln.graph.ControlFlowOp) {
      return;
    }
    List<Integer> allowed = new ArrayList<>();
    if (p.type().equals("Fused")) {
      if (p.numOutputs() == 1) {
        allowed.addAll(MemoryPlanner.fusedInPlaceInputs(p, r.index()));
      }
    } else if (Kernels.isBuiltin(p.type()) && p.numOutputs() == 1) {
      for (int i = 0; i < p.numInputs(); i++) {
        if (Kernels.allowsInPlace(p.type(), i)) {
          allowed.add(i);
        }
      }
    }
    boolean readsParam = false;
    for (int i = 0; i < p.numInputs(); i++) {
      if (p.def().readsInput(i) && viewRoot(p.input(i)) == param) {
        if (!allowed.contains(i) || p.input(i) != param) {
          return;
        }
        readsParam = true;
      }
    }
    if (!readsParam) {
      return;
    }
    for (Schedule.Step st : steps) {
      if (st instanceof Schedule.OpStep(Operation op) && op != p) {
        for (int i = 0; i < op.numInputs(); i++) {
          if (op.def().readsInput(i) && viewRoot(op.input(i)) == param) {
            return;
          }
        }
      }
    }
    carriedInPlace.add(r);
    slotOf.put(r, slotOf.get(param));
  }

  private Output viewRoot(Output o) {
    while (!fed.contains(o) && RULES.isView(o.op())) {
      o = o.op().input(0);
    }
    return o;
  }

  /** The random stream of a Random node: the Session's, or this body plan's own. */
  private dev.kiln.runtime.kernels.RandomStream randomStream(Operation op) {
    Operation owner = stateOp(op);
    if (session != null) {
      return body != null ? session.bodyRandomStream(scope + op.name(), op.attrs().getLong("seed"))
          : session.randomStream(owner);
    }
    return localRandoms.computeIfAbsent(owner, o -> new dev.kiln.runtime.kernels.RandomStream(o.attrs().getLong("seed")));
  }

  public static Plan compile(Session session, PlanKey key, Tensor[] feedValues) {
    return new PlanCompiler(session, key).compile(feedValues);
  }

  private Plan compile(Tensor[] feedValues) {
    validate(feedValues);
    List<Output> fetches = List.of(key.fetches());
    List<Operation> targets = List.of(key.targets());
    if (session.options().optimize()) {
      Program optimized = optimize(new Program(session.graph(), fetches, targets, fed));
      mapFeeds(optimized);
      fetches = optimized.fetches();
      targets = optimized.targets();
    }
    Schedule schedule = Schedule.build(fed, fetches, targets, RULES);
    List<Schedule.Step> all = schedule.steps();
    snapshots.addAll(schedule.snapshots());
    fused.putAll(schedule.fused());
    List<Schedule.Step> steps = splitAtDynamicLoop(all);
    layOutSpecialSlots(steps);
    layOutDynamicSlots();
    allocateBuffers(steps);
    int[] resultSlots = new int[key.fetches().length];
    for (int k = 0; k < resultSlots.length; k++) {
      resultSlots[k] = nextSlot++;
    }
    // A run that goes on after a loop that changes shape copies its fetches (nothing is lent).
    Plan.Lent[] lent = key.lend() && dynamicLoop == null ? findLent(steps) : new Plan.Lent[resultSlots.length];
    Kernel[] kernels = bindKernels(steps, resultSlots, lent);
    if (dynamicLoop != null) {
      kernels = appendTail(kernels, all.subList(steps.size(), all.size()), resultSlots, lent);
      kernelAfterAssign |= !schedule.written().isEmpty();
    }

    Object[] template = new Object[nextSlot];
    bindings.forEach((slot, array) -> template[slot] = array);
    int[] slots = bufferSlots();
    int[] sizes = bufferSizes();
    int[] feedSlots = new int[key.feeds().length];
    for (int i = 0; i < feedSlots.length; i++) {
      feedSlots[i] = slotOf.get(key.feeds()[i]);
    }
    VariableState[] mustInit = schedule.mustBeInitialized().stream().map(v -> session.variableState(stateOp(v)))
        .toArray(VariableState[]::new);
    VariableState[] written = schedule.written().stream().map(v -> session.variableState(stateOp(v)))
        .toArray(VariableState[]::new);
    return withStacks(new Plan(kernels, feedSlots, resultSlots, mustInit, written, kernelAfterAssign, template, slots,
        memory.bufferTypes(), sizes, session.options().framesPerPlan(), memory, lent));
  }

  /**
   * The steps up to and including the first loop whose variables change shape (all of them when none
   * does), inferring their types; the rest is compiled when that loop has run ({@link DynamicTail}).
   */
  private List<Schedule.Step> splitAtDynamicLoop(List<Schedule.Step> steps) {
    int split = inferTypes(steps);
    if (split == steps.size()) {
      return steps;
    }
    dynamicLoop = ((Schedule.OpStep) steps.get(split)).op();
    prefix = List.copyOf(steps.subList(0, split + 1));
    return prefix;
  }

  /** The dynamic loop's outputs and their shapes get slots of their own, past the special slots. */
  private void layOutDynamicSlots() {
    if (dynamicLoop == null) {
      return;
    }
    dynamicShapeSlots = new int[dynamicLoop.numOutputs()];
    for (int j = 0; j < dynamicShapeSlots.length; j++) {
      Output o = dynamicLoop.output(j);
      int s = nextSlot++;
      dynamicSlots.put(o, s);
      if (!fed.contains(o)) {
        slotOf.put(o, s);
      } else {
        scratchSlotOf.put(o, s);
      }
      dynamicShapeSlots[j] = nextSlot++;
    }
    bufferBase = nextSlot;
  }

  /** {@code kernels} then the kernel that compiles and runs {@code rest} for the loop's shapes. */
  private Kernel[] appendTail(Kernel[] kernels, List<Schedule.Step> rest, int[] resultSlots, Plan.Lent[] lent) {
    frameSize = nextSlot;
    List<Schedule.Step> tail = List.copyOf(rest);
    DynamicTail t = new DynamicTail(frameSize, dynamicShapeSlots, resultSlots,
        shapes -> new PlanCompiler(this, shapes).compileTail(tail, resultSlots, lent));
    Kernel[] all = java.util.Arrays.copyOf(kernels, kernels.length + 1);
    all[kernels.length] = t;
    return all;
  }

  /** Compiles the steps after a dynamic loop into a plan over an extension of the run's frame. */
  private Plan compileTail(List<Schedule.Step> tail, int[] resultSlots, Plan.Lent[] lent) {
    List<Schedule.Step> all = tail;
    List<Schedule.Step> steps = splitAtDynamicLoop(all);
    layOutSpecialSlots(steps);
    layOutDynamicSlots();
    allocateBuffers(steps);
    Kernel[] kernels = bindKernels(steps, resultSlots, lent);
    if (dynamicLoop != null) {
      kernels = appendTail(kernels, all.subList(steps.size(), all.size()), resultSlots, lent);
    }
    Object[] template = new Object[nextSlot];
    bindings.forEach((slot, array) -> template[slot] = array);
    int[] slots = bufferSlots();
    int[] sizes = bufferSizes();
    return withStacks(new Plan(kernels, new int[0], resultSlots, new VariableState[0], new VariableState[0], false,
        template, slots, memory.bufferTypes(), sizes, options.framesPerPlan(), memory, lent));
  }

  /**
   * Per fetch, the variable whose storage the fetched value is (VariableAliases) when no later step of
   * the run writes that variable: the storage holds exactly the fetched value when the run ends, so it
   * can be lent to the caller. Walks the steps backwards, collecting the variables written later.
   */
  private Plan.Lent[] findLent(List<Schedule.Step> steps) {
    Plan.Lent[] lent = new Plan.Lent[key.fetches().length];
    VariableAliases aliases = new VariableAliases(fed, snapshots, RULES);
    Set<Operation> writtenLater = new HashSet<>();
    for (int i = steps.size() - 1; i >= 0; i--) {
      switch (steps.get(i)) {
        case Schedule.OpStep(Operation op) -> {
          writtenLater.addAll(Schedule.assignedInBodies(op));
          if (Schedule.isAssign(op)) {
            writtenLater.add(op.input(0).op());
          } else if (fused.containsKey(op)) {
            writtenLater.add(fused.get(op));
          }
        }
        case Schedule.FetchStep(int k, Output value) -> {
          Operation var = aliases.variableOf(value);
          if (var != null && !writtenLater.contains(var)) {
            lent[k] = new Plan.Lent(session.variableState(stateOp(var)), types.get(value));
          }
        }
      }
    }
    return lent;
  }

  /**
   * The graph optimizer's hook: with {@link SessionOptions#optimize()} on, the default
   * pipeline (less the disabled passes) rewrites the run's program, and the plan is compiled from the
   * optimized graph. Its Variable and random nodes keep their names, so {@link #stateOp} finds their
   * state in the Session.
   */
  private Program optimize(Program program) {
    return optimize(program, options);
  }

  /** The default pipeline less {@code options}' disabled passes, run on {@code program} (also what a device Session's plans get). */
  public static Program optimize(Program program, SessionOptions options) {
    PassManager pipeline = Optimizer.defaultPipeline(CpuConstantEvaluator.instance(), CpuKernels.registry(),
        options.disabledPasses());
    return pipeline.run(program);
  }

  /** Fed values become their counterparts in the optimized graph (same node name), in the same slots. */
  private void mapFeeds(Program optimized) {
    Set<Output> mapped = new HashSet<>();
    for (Output o : key.feeds()) {
      Output m = optimized.graph().findOperation(o.op().name()).map(op -> op.output(o.index())).orElse(null);
      if (m != null && optimized.fed().contains(m)) {
        mapped.add(m);
        types.put(m, types.get(o));
        slotOf.put(m, slotOf.get(o));
      }
    }
    fed.clear();
    fed.addAll(mapped);
  }

  /** The Session graph's node for a Variable or random node of the (possibly optimized) plan graph. */
  private Operation stateOp(Operation op) {
    Graph g = body != null ? body.graph() : session.graph();
    return op.graph() == g ? op : g.operation(op.name());
  }

  private void validate(Tensor[] values) {
    Output[] feeds = key.feeds();
    for (int i = 0; i < feeds.length; i++) {
      Output o = feeds[i];
      Feeds.requireInGraph(session.graph(), o.op(), "fed value");
      Feeds.check(o, values[i]);
      fed.add(o);
      types.put(o, values[i].type());
      slotOf.put(o, nextSlot++);
    }
    for (Output f : key.fetches()) {
      Feeds.requireInGraph(session.graph(), f.op(), "fetch");
    }
    for (Operation t : key.targets()) {
      Feeds.requireInGraph(session.graph(), t, "target");
    }
  }

  /**
   * Infers the steps' concrete types in order; returns the index of the first step whose outputs get
   * none (a loop whose variables change shape), or the number of steps.
   */
  private int inferTypes(List<Schedule.Step> steps) {
    for (int i = 0; i < steps.size(); i++) {
      if (!(steps.get(i) instanceof Schedule.OpStep(Operation op))) {
        continue;
      }
      List<TensorType> out = switch (op.type()) {
        case "Variable", "Const", "RandomNormal", "RandomUniform", "Placeholder", "NoOp" -> op.outputTypes();
        case "Assign", "AssignAdd", "AssignSub" -> assignTypes(op);
        default -> ConcreteTypes.infer(op, inputTypes(op));
      };
      outputTypes.put(op, out);
      for (int j = 0; j < out.size(); j++) {
        types.putIfAbsent(op.output(j), out.get(j));
      }
      if (op.def() instanceof dev.kiln.graph.ControlFlowOp.While && !ConcreteTypes.allDefined(
          out.subList(0, out.size() - (int) op.attrs().getLong(dev.kiln.graph.ControlFlowOp.NUM_STACKED)))) {
        return i;
      }
    }
    return steps.size();
  }

  private List<TensorType> inputTypes(Operation op) {
    List<TensorType> in = new ArrayList<>(op.numInputs());
    for (int i = 0; i < op.numInputs(); i++) {
      in.add(op.def().readsInput(i) ? types.get(op.input(i)) : op.input(i).type());
    }
    return in;
  }

  private List<TensorType> assignTypes(Operation op) {
    TensorType var = op.input(0).op().type().equals("Parameter") ? types.get(op.input(0)) : op.input(0).type();
    TensorType value = types.get(op.input(1));
    if (!value.equals(var)) {
      throw new IllegalArgumentException(op + ": value " + value + " does not match variable '"
          + op.input(0).name() + "' of type " + var);
    }
    if (var.dtype() == DType.BOOL && !op.type().equals("Assign")) {
      throw new IllegalArgumentException(op + ": cannot add to or subtract from bool variable '"
          + op.input(0).name() + "'");
    }
    return List.of(var);
  }

  /** Slots for variables and constants, bound once per frame. */
  private void layOutSpecialSlots(List<Schedule.Step> steps) {
    for (Schedule.Step step : steps) {
      if (!(step instanceof Schedule.OpStep(Operation op))) {
        continue;
      }
      Output o = op.numOutputs() > 0 ? op.output(0) : null;
      for (Output out : op.outputs()) {
        if (isStack(out) && !fed.contains(out)) {
          int s = nextSlot++;
          stackSlots.put(out, s);
          slotOf.put(out, s);
        }
      }
      if (fused.containsKey(op)) {
        slotOf.put(o, variableSlot(fused.get(op)));
        continue;
      }
      switch (op.type()) {
        case "Variable" -> variableSlot(op);
        case "Assign", "AssignAdd", "AssignSub" -> {
          int s = assignedSlot(op);
          if (!fed.contains(o)) {
            slotOf.put(o, s);
          }
        }
        case "Const" -> {
          if (!fed.contains(o)) {
            int s = nextSlot++;
            bindings.put(s, HostBuffers.array(op.attrs().getTensor("value")));
            slotOf.put(o, s);
          }
        }
        default -> {}
      }
    }
    bufferBase = nextSlot;
  }

  /** The slot an assign writes: its variable's, or, in a body, the Parameter capturing the variable. */
  private int assignedSlot(Operation assign) {
    Output ref = assign.input(0);
    return ref.op().type().equals("Parameter") ? slotOf.get(ref) : variableSlot(ref.op());
  }

  private int variableSlot(Operation var) {
    Integer s = variableSlots.get(var);
    if (s == null) {
      s = nextSlot++;
      variableSlots.put(var, s);
      bindings.put(s, session.variableState(stateOp(var)).storage);
      if (!fed.contains(var.output(0)) && !snapshots.contains(var)) {
        slotOf.put(var.output(0), s);
      }
    }
    return s;
  }

  /** The buffer-owning value a value lives in, or null when it lives in a fed, variable or constant slot. */
  private Output root(Output o) {
    while (!fed.contains(o)) {
      if (carriedInPlace.contains(o) || stackSlots.containsKey(o) || dynamicSlots.containsKey(o)) {
        return null; // lives in its loop parameter's buffer
      }
      Operation op = o.op();
      if (RULES.isView(op)) {
        o = op.input(0);
        continue;
      }
      if (snapshots.contains(op)) {
        return o;
      }
      if (fused.containsKey(op)) {
        return null; // lives in the variable's storage
      }
      return switch (op.type()) {
        case "Variable", "Assign", "AssignAdd", "AssignSub", "Const", "Placeholder" -> null;
        default -> o;
      };
    }
    return null;
  }

  /**
   * Buffers for every computed value from the {@link MemoryPlanner}: liveness over the schedule, dead
   * values' buffers reused, an output written over an input that dies at its node where the kernel
   * allows it ({@link Kernels#allowsInPlace}; for Fused nodes {@link MemoryPlanner#fusedInPlaceInputs})
   * and the types are equal. A node that runs although its output is fed writes that output to a
   * scratch buffer; nodes that write into a variable's storage take no buffer; views share their
   * input's slot.
   */
  private void allocateBuffers(List<Schedule.Step> steps) {
    List<MemoryPlanner.Value> values = new ArrayList<>();
    List<Output> owners = new ArrayList<>();
    List<Boolean> scratch = new ArrayList<>();
    Map<Output, Integer> valueId = new HashMap<>();
    List<MemoryPlanner.Step> planned = new ArrayList<>();
    for (Schedule.Step step : steps) {
      List<Integer> reads = new ArrayList<>();
      List<Integer> defines = new ArrayList<>();
      List<List<Integer>> mayOverwrite = new ArrayList<>();
      switch (step) {
        case Schedule.OpStep(Operation op) -> {
          for (int i = 0; i < op.numInputs(); i++) {
            Output r = op.def().readsInput(i) ? root(op.input(i)) : null;
            if (r != null) {
              reads.add(valueId.get(r));
            }
          }
          if (!computes(op) || fused.containsKey(op) || carriedInPlace.contains(op.output(0))) {
            break;
          }
          List<TensorType> out = outputTypes.get(op);
          for (int j = 0; j < op.numOutputs(); j++) {
            Output o = op.output(j);
            TensorType t = out.get(j);
            if (stackSlots.containsKey(o) || dynamicSlots.containsKey(o)) {
              continue;
            }
            int id = values.size();
            values.add(new MemoryPlanner.Value(t.dtype(), t.shape().numElements()));
            owners.add(o);
            scratch.add(fed.contains(o));
            if (!fed.contains(o)) {
              valueId.put(o, id);
            }
            defines.add(id);
            mayOverwrite.add(fed.contains(o) ? List.of() : donors(op, j, out).stream().map(valueId::get).toList());
          }
        }
        case Schedule.FetchStep(int k, Output value) -> {
          Output r = root(value);
          if (r != null) {
            reads.add(valueId.get(r));
          }
        }
      }
      planned.add(new MemoryPlanner.Step(defines, reads, mayOverwrite));
    }
    memory = MemoryPlanner.plan(values, planned);
    for (int v = 0; v < values.size(); v++) {
      int slot = bufferBase + memory.bufferOf()[v];
      (scratch.get(v) ? scratchSlotOf : slotOf).put(owners.get(v), slot);
    }
    for (Schedule.Step step : steps) {
      if (step instanceof Schedule.OpStep(Operation op) && RULES.isView(op) && !fed.contains(op.output(0))) {
        slotOf.put(op.output(0), slotOf.get(op.input(0)));
      }
    }
    nextSlot = bufferBase + memory.bufferCount();
  }

  /**
   * The buffer-owning inputs whose buffer output {@code j} of {@code op} may take over if they die at
   * it: the kernel allows writing over every input that reads that buffer, and each such input has
   * exactly the output's type. (The planner checks that they die here.)
   */
  private List<Output> donors(Operation op, int j, List<TensorType> out) {
    List<Integer> allowed;
    if (op.type().equals("Fused")) {
      // Only a result as big as the kernel's iteration space (the outputs' broadcast) is written in place.
      dev.kiln.graph.Shape space = dev.kiln.graph.Shape.scalar();
      for (TensorType t : out) {
        space = space == null ? null : dev.kiln.graph.Shape.broadcast(space, t.shape());
      }
      allowed = space != null && out.get(j).shape().numElements() == space.numElements()
          ? MemoryPlanner.fusedInPlaceInputs(op, j) : List.of();
    } else if (Kernels.isBuiltin(op.type()) && op.numOutputs() == 1) {
      allowed = new ArrayList<>();
      for (int i = 0; i < op.numInputs(); i++) {
        if (Kernels.allowsInPlace(op.type(), i)) {
          allowed.add(i);
        }
      }
    } else {
      allowed = List.of();
    }
    List<Output> donors = new ArrayList<>();
    for (int i : allowed) {
      Output r = op.def().readsInput(i) ? root(op.input(i)) : null;
      if (r == null || donors.contains(r)) {
        continue;
      }
      boolean ok = true;
      for (int k = 0; k < op.numInputs() && ok; k++) {
        if (op.def().readsInput(k) && root(op.input(k)) == r) {
          ok = allowed.contains(k) && types.get(op.input(k)).equals(out.get(j));
        }
      }
      if (ok) {
        donors.add(r);
      }
    }
    return donors;
  }

  /** True for nodes that write buffers of their own: kernel-library ops and random sources. */
  private boolean computes(Operation op) {
    if (snapshots.contains(op)) {
      return true;
    }
    return switch (op.type()) {
      case "Variable", "Assign", "AssignAdd", "AssignSub", "Const", "Placeholder", "NoOp" -> false;
      default -> !RULES.isView(op);
    };
  }

  private Kernel[] bindKernels(List<Schedule.Step> steps, int[] resultSlots, Plan.Lent[] lent) {
    List<Kernel> kernels = new ArrayList<>();
    for (Schedule.Step step : steps) {
      switch (step) {
        case Schedule.OpStep(Operation op) -> {
          Kernel k = kernelFor(op);
          if (k != null) {
            if (Schedule.isAssign(op) || fused.containsKey(op)) {
              sawAssign = true;
            } else if (Schedule.writesVariable(op)) {
              // a body's kernel may fail after the body assigned
              sawAssign = true;
              kernelAfterAssign = true;
            } else if (sawAssign && !op.type().startsWith("Random")) {
              kernelAfterAssign = true;
            }
            kernels.add(options.profileKernels() ? KernelProfile.wrap(kernels.size(), op, outputTypes.get(op), inputTypes(op), k) : k);
          }
        }
        case Schedule.FetchStep(int k, Output value) when body != null || lent[k] != null -> {}
        case Schedule.FetchStep(int k, Output value) -> {
          if (stackSlots.containsKey(value)) {
            throw new IllegalArgumentException("cannot fetch " + value + ": it is a stack a loop's gradient reads");
          }
          TensorType t = types.get(value);
          kernels.add(StateKernels.fetch(t.dtype(), t.shape(), t.shape().elementCount(),
              slotOf.get(value), resultSlots[k]));
        }
      }
    }
    return kernels.toArray(Kernel[]::new);
  }

  private Kernel kernelFor(Operation op) {
    List<TensorType> out = outputTypes.get(op);
    if (snapshots.contains(op)) {
      int n = out.get(0).shape().elementCount();
      int from = variableSlots.get(op);
      int to = outputSlot(op.output(0));
      return f -> System.arraycopy(f[from], 0, f[to], 0, n);
    }
    return switch (op.type()) {
      case "Variable", "Const", "Placeholder", "NoOp" -> null;
      case "Assign", "AssignAdd", "AssignSub" -> fused.containsKey(op.input(1).op()) ? null : StateKernels.assign(op.type(), out.get(0).dtype(),
          out.get(0).shape().elementCount(), slotOf.get(op.input(1)), assignedSlot(op));
      case "RandomNormal" -> StateKernels.randomNormal(randomStream(op), out.get(0).dtype(),
          out.get(0).shape().elementCount(), outputSlot(op.output(0)));
      case "RandomUniform" -> StateKernels.randomUniform(randomStream(op), out.get(0).dtype(),
          out.get(0).shape().elementCount(), outputSlot(op.output(0)));
      default -> {
        if (RULES.isView(op)) {
          yield null;
        }
        int[] in = new int[op.numInputs()];
        for (int i = 0; i < in.length; i++) {
          in[i] = op.def().readsInput(i) ? slotOf.get(op.input(i)) : -1;
        }
        int[] outSlots = new int[op.numOutputs()];
        for (int j = 0; j < outSlots.length; j++) {
          outSlots[j] = outputSlot(op.output(j));
        }
        KernelSpec spec = new KernelSpec(op, inputTypes(op), out, in, outSlots, options.fusedKernels());
        if (op == dynamicLoop) {
          yield new DynamicLoopKernel(spec, session, dynamicShapeSlots, scopeOf(op, 0), scopeOf(op, 1));
        }
        if (op.def() instanceof dev.kiln.graph.ControlFlowOp) {
          yield ControlFlowKernels.create(spec, session, scopeOf(op, 0), scopeOf(op, 1));
        }
        yield Kernels.create(spec);
      }
    };
  }

  private int outputSlot(Output o) {
    Integer s = scratchSlotOf.get(o);
    return s != null ? s : slotOf.get(o);
  }

  /** The frame slots of the memory plan's reused buffers, in buffer order. */
  private int[] bufferSlots() {
    int[] slots = new int[memory.bufferCount()];
    for (int b = 0; b < slots.length; b++) {
      slots[b] = bufferBase + b;
    }
    return slots;
  }

  /** The element counts of the memory plan's reused buffers. */
  private int[] bufferSizes() {
    int[] sizes = new int[memory.bufferCount()];
    for (int b = 0; b < sizes.length; b++) {
      sizes[b] = Math.toIntExact(memory.bufferElements()[b]);
    }
    return sizes;
  }
}
