package dev.kiln.cuda;

import static dev.kiln.cuda.Cu.check;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Place;
import dev.kiln.optimizer.Program;
import dev.kiln.optimizer.Prune;
import dev.kiln.runtime.plan.ArenaLayout;
import dev.kiln.runtime.plan.MemoryPlanner;
import dev.kiln.runtime.plan.PlanRules;
import dev.kiln.runtime.plan.Schedule;
import dev.kiln.runtime.spi.HostRuntime;
import dev.kiln.runtime.spi.HostStep;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/**
 * One run signature compiled for the device: the program pruned and placed ({@link Place}), every
 * value's concrete type, one device arena laid out by liveness (its peak is the plan's device
 * memory; allocated once, reused by every run), constants uploaded once, kernels generated and
 * loaded, and the steps of a run in order. A run enqueues device work on the context's one stream
 * and synchronizes only where a host step needs a device value, and once at the end for fetches.
 */
final class CudaPlan implements AutoCloseable {
  /** One step of a run. */
  private interface Step {
    /** Whether the step runs on the host (and so needs the device values it reads downloaded). */
    default boolean host() {
      return false;
    }

    /** Host work that only reads the run's inputs (feeds, host variables): done before enqueuing. */
    default void prepare(RunState s) {}

    /** Enqueues the step's device work (or does its host work). */
    void run(RunState s);

    /** Whether a CUDA graph captured once can replay the step (no host work mid-run, no new arguments). */
    default boolean graphable() {
      return !host();
    }

    /** A step a CUDA graph cannot replay (synchronous or chunked transfers, host copies mid-run). */
    static Step unreplayable(java.util.function.Consumer<RunState> work) {
      return new Step() {
        @Override
        public void run(RunState s) {
          work.accept(s);
        }

        @Override
        public boolean graphable() {
          return false;
        }
      };
    }

    /** Host work between device steps (it needs the device values it reads downloaded first). */
    static Step onHost(java.util.function.Consumer<RunState> work) {
      return new Step() {
        @Override
        public boolean host() {
          return true;
        }

        @Override
        public void run(RunState s) {
          work.accept(s);
        }
      };
    }
  }

  /** A step whose only work is host preparation (binding a feed). */
  private record Prepare(java.util.function.Consumer<RunState> work) implements Step {
    @Override
    public void prepare(RunState s) {
      work.accept(s);
    }

    @Override
    public void run(RunState s) {}
  }

  /** Per-run scratch: the host frame, the feeds and the downloads still in flight. */
  private final class RunState {
    final Object[] frame = hostFrame;
    final Tensor[] feeds;
    final List<Runnable> pending = new ArrayList<>();

    RunState(Tensor[] feeds) {
      this.feeds = feeds;
    }

    /** Waits for the stream and lands every pending download in its host array. */
    void landDownloads() {
      if (!pending.isEmpty()) {
        ctx.synchronize();
        pending.forEach(Runnable::run);
        pending.clear();
      }
    }
  }

  /** Where a value lives: a host frame slot, or a device pointer (arena, variable or constant). */
  private record Where(int hostSlot, CUdeviceptr device) {
    boolean onDevice() {
      return device != null;
    }
  }

  private final CudaContext ctx;
  private final CudaSession session;
  /** The CPU runtime's rules this plan shares: concrete types, host kernels, random streams. */
  private final HostRuntime hostRuntime = HostRuntime.cpu();
  final Program placed;
  private final Map<Output, TensorType> types = new HashMap<>();
  private final Map<Output, Where> where = new HashMap<>();
  private final List<Step> steps = new ArrayList<>();
  private final List<CUdeviceptr> owned = new ArrayList<>();
  private final List<Object> hostSlots = new ArrayList<>();
  private Object[] hostFrame;
  private CUdeviceptr arena;
  private Pointer pinned;
  private ByteBuffer pinnedBuffer;
  private long pinnedBytes;
  final long peakBytes;
  private long constantBytes;
  private final List<CudaVariable> mustBeInitialized = new ArrayList<>();
  private final Map<CudaVariable, Boolean> residency = new LinkedHashMap<>();
  private final List<CudaVariable> written = new ArrayList<>();
  /** Variables read through a copy taken before their first assign (see {@link Schedule}). */
  private final Set<Operation> snapshots = new HashSet<>();
  private final Output[] fetches;

  CudaPlan(CudaSession session, CudaContext ctx, Output[] fedOutputs, Tensor[] fedValues, Output[] fetches,
      Operation[] targets) {
    this.session = session;
    this.ctx = ctx;
    this.fetches = fetches;
    Program source = new Program(session.graph(), List.of(fetches), List.of(targets), Set.of(fedOutputs));
    Program optimized = session.optimizer().apply(source);
    placed = new PassManager(List.of(new Prune(), new Place(ctx.description, CudaKernels.REGISTRY))).run(optimized);
    requireFedPlaceholders(fedOutputs);
    Map<String, Integer> fedByName = new HashMap<>();
    for (int i = 0; i < fedOutputs.length; i++) {
      fedByName.put(fedOutputs[i].name(), i);
    }
    // Fed values the run does not need were pruned away; the rest keep their names.
    Map<Output, Integer> feedIndex = new HashMap<>();
    for (Output p : placed.fed()) {
      int i = fedByName.get(p.name());
      feedIndex.put(p, i);
      types.put(p, fedValues[i].type());
    }
    Schedule schedule = schedule(placed);
    snapshots.addAll(schedule.snapshots());
    List<Operation> order = order(schedule, feedIndex.keySet());
    inferTypes(order, feedIndex);
    findDirectWrites(order, feedIndex);
    List<Output> fedOutputsInOrder = new ArrayList<>(feedIndex.keySet());
    fedOutputsInOrder.sort(Comparator.comparingInt(feedIndex::get));
    List<Output> arenaValues = new ArrayList<>();
    ArenaLayout.Arena layout = layout(order, fedOutputsInOrder, placed.fetches(),
        o -> needsArena(o.op(), o, feedIndex) && !directWrite.containsKey(o), o -> bytes(types.get(o)), arenaValues);
    peakBytes = layout.bytes();
    try {
      arena = ctx.allocate(peakBytes, "the plan for " + List.of(fetches) + " (peak of its device arena)");
      owned.add(arena);
      for (int v = 0; v < arenaValues.size(); v++) {
        where.put(arenaValues.get(v), new Where(-1, arena.withByteOffset(layout.offsets()[v])));
      }
      for (Map.Entry<Output, Operation> e : directWrite.entrySet()) {
        CudaVariable v = session.variable(e.getValue());
        session.ensureDeviceBuffer(v);
        where.put(e.getKey(), new Where(-1, v.device));
      }
      for (Output o : fedOutputsInOrder) {
        buildFeed(o, feedIndex.get(o));
      }
      for (Operation op : order) {
        build(op, feedIndex);
      }
      for (Operation var : schedule.mustBeInitialized()) {
        mustBeInitialized.add(session.variable(var));
      }
      buildFetches();
      hostFrame = hostSlots.toArray();
      if (pinnedBytes > 0) {
        pinned = new Pointer();
        check(JCudaDriver.cuMemAllocHost(pinned, pinnedBytes), "cuMemAllocHost(" + pinnedBytes + ")");
        pinnedBuffer = pinned.getByteBuffer(0, pinnedBytes).order(java.nio.ByteOrder.nativeOrder());
      }
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  /** The first (in creation order) placeholder the run needs and is not fed fails the run, as on the CPU. */
  private void requireFedPlaceholders(Output[] fedOutputs) {
    Set<String> fed = new HashSet<>();
    for (Output o : fedOutputs) {
      fed.add(o.name());
    }
    for (Operation op : placed.graph().operations()) {
      if (op.type().equals("Placeholder") && !fed.contains(op.output(0).name())) {
        throw new IllegalArgumentException("Placeholder '" + op.name() + "': no value fed for " + op.outputType(0)
            + " (the run needs it)");
      }
    }
  }

  /** Device values written straight into the variable a plain Assign stores them in. */
  private final Map<Output, Operation> directWrite = new HashMap<>();

  /**
   * {@code v = Assign(var, f(...))} on the device normally computes f into the arena and copies it
   * into var. When f is a one-output elementwise or Fused kernel whose only reader is the Assign, and
   * every other reader of var runs before f, f writes var directly (saving a copy of the whole
   * variable, as in an SGD update v = v - lr * g or an elementwise chain assigned back to its
   * variable). In-place is safe for these kernels: each thread reads element i of a same-shaped
   * input before writing element i.
   */
  private void findDirectWrites(List<Operation> order, Map<Output, Integer> feedIndex) {
    Map<Operation, Integer> index = new HashMap<>();
    Map<Output, List<Integer>> readers = new HashMap<>();
    Map<Output, Output> root = new HashMap<>();
    for (int i = 0; i < order.size(); i++) {
      Operation op = order.get(i);
      index.put(op, i);
      for (int k = 0; k < op.numInputs(); k++) {
        if (op.def().readsInput(k) || (k == 0 && Schedule.isAssign(op) && !op.type().equals("Assign"))) {
          Output in = op.input(k);
          readers.computeIfAbsent(root.getOrDefault(in, in), x -> new ArrayList<>()).add(i);
        }
      }
      if (isView(op)) {
        root.put(op.output(0), root.getOrDefault(op.input(0), op.input(0)));
      }
    }
    Set<Output> fetched = new HashSet<>(placed.fetches());
    for (Operation op : order) {
      if (!op.type().equals("Assign") || !onDevice(op)) {
        continue;
      }
      Output value = op.input(1);
      Operation f = value.op();
      Operation var = op.input(0).op();
      boolean kernel = onDevice(f) && f.numOutputs() == 1 && !feedIndex.containsKey(value) && !fetched.contains(value)
          && (f.type().equals("Fused") || f.type().equals("Gemm") || (CudaKernels.isElementwise(f.type()) && !isView(f)))
          // A reduced row is written after other blocks read the row's inputs: never in place.
          && !(f.type().equals("Fused") && CudaFusedReduction.hasReductions(f.subgraphs().get(0)))
          && types.get(value).equals(var.outputType(0));
      if (!kernel || directWrite.containsValue(var) || snapshots.contains(var)) {
        continue;
      }
      // f may read var only element for element (same shape, no reshaped view of it); a Gemm only as
      // its accumulated operand c, never as a factor of the product.
      boolean sameShapeReads = true;
      for (int k = 0; k < f.numInputs(); k++) {
        Output in = f.input(k);
        boolean readsVar = root.getOrDefault(in, in).equals(var.output(0));
        if (readsVar && (!types.get(in).shape().equals(types.get(value).shape()) || (f.type().equals("Gemm") && k < 2))) {
          sameShapeReads = false;
        }
      }
      if (!sameShapeReads) {
        continue;
      }
      List<Integer> valueReaders = readers.getOrDefault(value, List.of());
      int at = index.get(f);
      boolean othersFirst = readers.getOrDefault(var.output(0), List.of()).stream()
          .allMatch(r -> r < at || r == at || order.get(r) == op);
      if (valueReaders.equals(List.of(index.get(op))) && othersFirst) {
        directWrite.put(value, var);
      }
    }
  }

  // ------------------------------------------------------------------ compile

  /**
   * The device's storage rules for the shared plan layer: VIEW ops alias their input, except the
   * copies between host and device, which have storage of their own; no kernel writes into a
   * variable during scheduling (an Assign's value kernel may still write the variable directly, see
   * {@link #findDirectWrites}).
   */
  static final PlanRules RULES = new PlanRules() {
    @Override
    public boolean isView(Operation op) {
      return CudaPlan.isView(op);
    }
  };

  /** The run order of a placed program: the shared schedule (reads of a variable before the run's assigns to it). */
  static Schedule schedule(Program placed) {
    return Schedule.build(Set.copyOf(placed.fed()), placed.fetches(), placed.targets(), RULES);
  }

  /** The nodes a run executes, in order, less the nodes whose outputs are all fed (their values are bound as feeds). */
  static List<Operation> order(Schedule schedule, Set<Output> fed) {
    List<Operation> order = new ArrayList<>();
    for (Schedule.Step step : schedule.steps()) {
      if (step instanceof Schedule.OpStep(Operation op)) {
        boolean allFed = op.numOutputs() > 0;
        boolean someFed = false;
        for (Output o : op.outputs()) {
          allFed &= fed.contains(o);
          someFed |= fed.contains(o);
        }
        if (allFed) {
          continue;
        }
        if (someFed) {
          throw new IllegalArgumentException(op.type() + " '" + op.name() + "': some of its outputs are fed and others "
              + "are needed; the device runs a node whole or not at all");
        }
        order.add(op);
      }
    }
    return order;
  }

  static boolean isView(Operation op) {
    return op.def().traits().contains(OpTrait.VIEW) && !op.type().startsWith("CopyTo");
  }

  private static boolean onDevice(Operation op) {
    return op.device().startsWith("/gpu:");
  }

  private void inferTypes(List<Operation> order, Map<Output, Integer> feedIndex) {
    for (Operation op : order) {
      if (op.numOutputs() > 0 && feedIndex.containsKey(op.output(0)) && op.numOutputs() == 1) {
        continue;
      }
      List<TensorType> out = switch (op.type()) {
        case "Placeholder" -> throw new IllegalArgumentException("Placeholder '" + op.name() + "': no value fed for "
            + op.outputType(0) + " (the run needs it)");
        case "Variable", "Const", "RandomNormal", "RandomUniform", "NoOp" -> op.outputTypes();
        case "Assign", "AssignAdd", "AssignSub" -> List.of(op.input(0).type());
        default -> {
          List<TensorType> in = new ArrayList<>();
          for (Output i : op.inputs()) {
            in.add(types.get(i));
          }
          yield hostRuntime.concreteTypes(op, in);
        }
      };
      for (int j = 0; j < out.size(); j++) {
        types.putIfAbsent(op.output(j), out.get(j));
      }
    }
  }

  /**
   * Lays the run's device values out in one arena with the shared memory planner: the fed values
   * that {@code inArena} accepts first, then each node's outputs in run order. A value is live from
   * the step that writes it to its last reader's (reads through views count as reads of the viewed
   * value; every input counts, read or not), a fetched value to the end of the run. {@code values}
   * receives the arena's values, in the order of the offsets returned.
   */
  static ArenaLayout.Arena layout(List<Operation> order, List<Output> fed, List<Output> fetches,
      Predicate<Output> inArena, ToLongFunction<Output> bytes, List<Output> values) {
    Map<Output, Integer> id = new HashMap<>();
    List<MemoryPlanner.Value> sizes = new ArrayList<>();
    List<MemoryPlanner.Step> steps = new ArrayList<>();
    List<Integer> fedIds = new ArrayList<>();
    for (Output o : fed) {
      if (inArena.test(o)) {
        fedIds.add(define(o, id, values, sizes, bytes));
      }
    }
    steps.add(new MemoryPlanner.Step(fedIds, List.of(), false));
    Map<Output, Output> root = new HashMap<>();
    for (Operation op : order) {
      List<Integer> reads = new ArrayList<>();
      for (Output in : op.inputs()) {
        Integer v = id.get(root.getOrDefault(in, in));
        if (v != null) {
          reads.add(v);
        }
      }
      if (isView(op)) {
        root.put(op.output(0), root.getOrDefault(op.input(0), op.input(0)));
      }
      List<Integer> defines = new ArrayList<>();
      for (Output o : op.outputs()) {
        if (inArena.test(o)) {
          defines.add(define(o, id, values, sizes, bytes));
        }
      }
      steps.add(new MemoryPlanner.Step(defines, reads, false));
    }
    List<Integer> fetched = new ArrayList<>();
    for (Output f : fetches) {
      Integer v = id.get(root.getOrDefault(f, f));
      if (v != null) {
        fetched.add(v);
      }
    }
    steps.add(new MemoryPlanner.Step(List.of(), fetched, false));
    return ArenaLayout.layout(sizes, steps, ALIGN, MemoryPlanner.Value::bytes);
  }

  /** A new arena value, sized in bytes (as that many one-byte elements: the arena counts bytes, not dtypes). */
  private static int define(Output o, Map<Output, Integer> id, List<Output> values, List<MemoryPlanner.Value> sizes,
      ToLongFunction<Output> bytes) {
    id.put(o, values.size());
    values.add(o);
    sizes.add(new MemoryPlanner.Value(DType.BOOL, bytes.applyAsLong(o)));
    return values.size() - 1;
  }

  private boolean needsArena(Operation op, Output o, Map<Output, Integer> feedIndex) {
    if (!onDevice(op)) {
      return false;
    }
    if (feedIndex.containsKey(o)) {
      return true;
    }
    return switch (op.type()) {
      case "Variable" -> snapshots.contains(op);
      case "Const", "NoOp", "Assign", "AssignAdd", "AssignSub" -> false;
      default -> !isView(op);
    };
  }

  static long bytes(TensorType t) {
    return t.shape().numElements() * CudaTypes.size(t.dtype());
  }

  private int newHostSlot(Object array) {
    hostSlots.add(array);
    return hostSlots.size() - 1;
  }

  /** Alignment of every arena value and staged transfer (bytes). */
  static final long ALIGN = 256;

  /** Largest transfer a plan stages in its own pinned area, and the area's bound (jcuda maps it as one ByteBuffer). */
  static final long STAGE_MAX = 64L << 20;
  static final long PINNED_MAX = 512L << 20;

  /**
   * A transfer's offset in the plan's pinned area (filled or drained around the run's one
   * synchronization), or -1 for one too large for it: that one is copied synchronously, in stream
   * order, chunk by chunk through the context's {@link Staging} buffer.
   */
  private long stage(long bytes) {
    if (bytes > STAGE_MAX || pinnedBytes + bytes > PINNED_MAX) {
      return -1;
    }
    long off = pinnedBytes;
    pinnedBytes = ArenaLayout.align(pinnedBytes + bytes, ALIGN);
    return off;
  }

  /** Each step's node ("MatMul 'dense/MatMul'"), for {@link #profile}. */
  private final List<String> labels = new ArrayList<>();
  private String building = "";

  private void addStep(Step step) {
    steps.add(step);
    labels.add(building);
  }

  /** Binds fed value number {@code k} to {@code o}: a host slot, or an upload into its arena block. */
  private void buildFeed(Output o, int k) {
    building = o.op().type() + " '" + o.op().name() + "'";
    boolean dev = onDevice(o.op());
    TensorType t = types.get(o);
    if (!dev) {
      int slot = newHostSlot(null);
      where.put(o, new Where(slot, null));
      addStep(new Prepare(s -> s.frame[slot] = HostBuffers.array(s.feeds[k])));
    } else {
      CUdeviceptr dst = where.get(o).device();
      long bytes = bytes(t);
      long off = stage(bytes);
      int n = (int) t.shape().numElements();
      if (off < 0) {
        addStep(Step.unreplayable(s -> ctx.staging.upload(HostBuffers.array(s.feeds[k]), n, dst)));
        return;
      }
      addStep(new Step() {
        @Override
        public void prepare(RunState s) {
          HostArrays.put(HostBuffers.array(s.feeds[k]), n, pinnedBuffer, off);
        }

        @Override
        public void run(RunState s) {
          check(JCudaDriver.cuMemcpyHtoDAsync(dst, pinned.withByteOffset(off), bytes, ctx.stream), "cuMemcpyHtoDAsync");
        }
      });
    }
  }

  /** Places the outputs of {@code op} and appends its steps. */
  private void build(Operation op, Map<Output, Integer> feedIndex) {
    building = op.type() + " '" + op.name() + "'";
    boolean dev = onDevice(op);
    switch (op.type()) {
      case "NoOp" -> { }
      case "Placeholder" -> throw new IllegalStateException("unreachable: unfed placeholder " + op.name());
      case "Variable" -> {
        CudaVariable v = session.variable(op);
        residency.put(v, dev);
        if (dev) {
          session.ensureDeviceBuffer(v);
          if (snapshots.contains(op)) {
            // Read through a copy taken here, before the run's first assign to it.
            CUdeviceptr var = v.device;
            CUdeviceptr copy = where.get(op.output(0)).device();
            long bytes = v.bytes();
            addStep(s -> check(JCudaDriver.cuMemcpyDtoDAsync(copy, var, bytes, ctx.stream), "cuMemcpyDtoDAsync"));
          } else {
            where.put(op.output(0), new Where(-1, v.device));
          }
        } else if (snapshots.contains(op)) {
          Object copy = HostBuffers.allocate(v.type.dtype(), v.size);
          where.put(op.output(0), new Where(newHostSlot(copy), null));
          addStep(Step.onHost(s -> System.arraycopy(v.storage, 0, copy, 0, v.size)));
        } else {
          where.put(op.output(0), new Where(newHostSlot(v.storage), null));
        }
      }
      case "Const" -> {
        Tensor value = op.attrs().getTensor("value");
        if (dev) {
          CUdeviceptr p = ctx.allocate(bytes(value.type()), "constant '" + op.name() + "'");
          owned.add(p);
          constantBytes += bytes(value.type());
          upload(HostBuffers.array(value), value.type(), p);
          where.put(op.output(0), new Where(-1, p));
        } else {
          where.put(op.output(0), new Where(newHostSlot(HostBuffers.array(value)), null));
        }
      }
      case "Assign", "AssignAdd", "AssignSub" -> assign(op, dev);
      case "CopyToDevice" -> {
        Where src = where.get(op.input(0));
        Output o = op.output(0);
        CUdeviceptr dst = where.get(o).device();
        TensorType t = types.get(o);
        long bytes = bytes(t);
        long off = stage(bytes);
        int n = (int) t.shape().numElements();
        int slot = src.hostSlot();
        if (off < 0) {
          addStep(Step.onHost(s -> ctx.staging.upload(s.frame[slot], n, dst)));
          return;
        }
        addStep(new Step() {
          @Override
          public boolean host() {
            return true;
          }

          @Override
          public void prepare(RunState s) {
            HostArrays.put(s.frame[slot], n, pinnedBuffer, off);
          }

          @Override
          public void run(RunState s) {
            check(JCudaDriver.cuMemcpyHtoDAsync(dst, pinned.withByteOffset(off), bytes, ctx.stream), "cuMemcpyHtoDAsync");
          }

          @Override
          public boolean graphable() {
            return true; // its source is a feed, a constant or a host variable unless a host step exists
          }
        });
      }
      case "CopyToHost" -> {
        CUdeviceptr src = where.get(op.input(0)).device();
        Output o = op.output(0);
        TensorType t = types.get(o);
        long bytes = bytes(t);
        long off = stage(bytes);
        int n = (int) t.shape().numElements();
        Object array = HostBuffers.allocate(t.dtype(), n);
        int slot = newHostSlot(array);
        where.put(o, new Where(slot, null));
        if (off < 0) {
          addStep(Step.unreplayable(s -> ctx.staging.download(src, s.frame[slot], n)));
          return;
        }
        addStep(Step.unreplayable(s -> {
          check(JCudaDriver.cuMemcpyDtoHAsync(pinned.withByteOffset(off), src, bytes, ctx.stream), "cuMemcpyDtoHAsync");
          s.pending.add(() -> HostArrays.get(pinnedBuffer, off, s.frame[slot], n));
        }));
      }
      default -> {
        if (isView(op)) {
          Where in = where.get(op.input(0));
          where.put(op.output(0), in);
        } else if (dev) {
          deviceKernel(op);
        } else {
          hostKernel(op);
        }
      }
    }
  }

  /** Placement put a copy on every edge that crosses devices; anything else is a bug here. */
  private Where requireSide(Operation op, Output in, boolean device) {
    Where w = where.get(in);
    if (w == null || w.onDevice() != device) {
      throw new IllegalStateException(op.type() + " '" + op.name() + "' on " + op.device() + " reads " + in.name()
          + (w == null ? ", which has no storage" : " from the " + (w.onDevice() ? "device" : "host")));
    }
    return w;
  }

  private void upload(Object array, TensorType t, CUdeviceptr dst) {
    ctx.staging.upload(array, t.shape().numElements(), dst);
  }

  private void assign(Operation op, boolean dev) {
    CudaVariable v = session.variable(op.input(0).op());
    residency.put(v, dev);
    boolean plain = op.type().equals("Assign");
    if (!written.contains(v)) {
      written.add(v);
    }
    Where value = where.get(op.input(1));
    int n = v.size;
    if (dev) {
      session.ensureDeviceBuffer(v);
      CUdeviceptr var = v.device;
      CUdeviceptr src = value.device();
      if (plain && directWrite.containsKey(op.input(1))) {
        // The value's kernel already wrote the variable (see findDirectWrites).
      } else if (plain) {
        long bytes = v.bytes();
        addStep(s -> check(JCudaDriver.cuMemcpyDtoDAsync(var, src, bytes, ctx.stream), "cuMemcpyDtoDAsync"));
      } else {
        launch(CudaCodegen.assignUpdate(v.type, op.type().equals("AssignSub")), List.of(var, src), null);
      }
      where.put(op.output(0), new Where(-1, var));
    } else {
      int varSlot = newHostSlot(v.storage);
      int src = value.hostSlot();
      boolean sub = op.type().equals("AssignSub");
      addStep(new Step() {
        @Override
        public boolean host() {
          return true;
        }

        @Override
        public void run(RunState s) {
          if (plain) {
            System.arraycopy(s.frame[src], 0, v.storage, 0, n);
          } else {
            HostArrays.update(v.storage, s.frame[src], n, sub);
          }
        }
      });
      where.put(op.output(0), new Where(varSlot, null));
    }
  }

  private void hostKernel(Operation op) {
    List<TensorType> in = new ArrayList<>();
    int[] inSlots = new int[op.numInputs()];
    for (int i = 0; i < op.numInputs(); i++) {
      in.add(types.get(op.input(i)));
      inSlots[i] = requireSide(op, op.input(i), false).hostSlot();
    }
    List<TensorType> out = new ArrayList<>();
    int[] outSlots = new int[op.numOutputs()];
    for (int j = 0; j < op.numOutputs(); j++) {
      TensorType t = types.get(op.output(j));
      out.add(t);
      outSlots[j] = newHostSlot(HostBuffers.allocate(t.dtype(), (int) t.shape().numElements()));
      where.put(op.output(j), new Where(outSlots[j], null));
    }
    if (op.type().equals("RandomNormal") || op.type().equals("RandomUniform")) {
      boolean normal = op.type().equals("RandomNormal");
      long seed = op.attrs().getLong("seed");
      int slot = outSlots[0];
      int n = (int) out.get(0).shape().numElements();
      DType d = out.get(0).dtype();
      addStep(new Step() {
        @Override
        public boolean host() {
          return true;
        }

        @Override
        public void run(RunState s) {
          long first = session.reserveRandom(op.name(), seed, n);
          for (int i = 0; i < n; i++) {
            double x = normal ? hostRuntime.normal(seed, first + i) : hostRuntime.uniform(seed, first + i);
            if (d == DType.FLOAT32) {
              ((float[]) s.frame[slot])[i] = (float) x;
            } else {
              ((double[]) s.frame[slot])[i] = x;
            }
          }
        }
      });
      return;
    }
    HostStep k = hostRuntime.kernel(op, in, out, inSlots, outSlots);
    addStep(Step.onHost(s -> k.run(s.frame)));
  }

  private void deviceKernel(Operation op) {
    List<TensorType> in = new ArrayList<>();
    List<CUdeviceptr> args = new ArrayList<>();
    for (Output i : op.inputs()) {
      in.add(types.get(i));
      args.add(requireSide(op, i, true).device());
    }
    List<TensorType> out = new ArrayList<>();
    for (Output o : op.outputs()) {
      out.add(types.get(o));
      args.add(where.get(o).device());
    }
    boolean mm = op.type().equals("MatMul") || op.type().equals("FusedMatMul") || op.type().equals("Gemm");
    if (mm && ctx.gemm.hasCublas()) {
      boolean ta = op.attrs().getBool("transpose_a", false);
      boolean tb = op.attrs().getBool("transpose_b", false);
      TensorType c = out.get(0);
      int m = c.shape().dim(0);
      int n = c.shape().dim(1);
      int k = ta ? in.get(0).shape().dim(0) : in.get(0).shape().dim(1);
      CUdeviceptr a = args.get(0);
      CUdeviceptr b = args.get(1);
      CUdeviceptr dst = args.get(args.size() - 1);
      DType d = c.dtype();
      if (op.type().equals("Gemm")) {
        // dst = alpha a.b + beta c: c first copied into dst, unless dst is c (written in place).
        CUdeviceptr acc = args.get(2);
        long bytes = bytes(c);
        if (!NativeAddress.same(acc, dst)) {
          addStep(s -> check(JCudaDriver.cuMemcpyDtoDAsync(dst, acc, bytes, ctx.stream), "cuMemcpyDtoDAsync"));
        }
        double[] ab = CudaCodegen.alphaBeta(op.attrs());
        Runnable update = ctx.gemm.gemm(d, ta, tb, m, n, k, a, b, dst, ab[0], ab[1]);
        addStep(s -> update.run());
        return;
      }
      Runnable product = ctx.gemm.gemm(d, ta, tb, m, n, k, a, b, dst);
      addStep(s -> product.run());
      String act = op.attrs().find("activation").map(Object::toString).orElse("none");
      boolean bias = op.numInputs() == 3;
      if (bias || !act.equals("none")) {
        List<CUdeviceptr> eargs = bias ? List.of(args.get(2), dst) : List.of(dst);
        launch(CudaCodegen.epilogue(c, bias ? in.get(2) : null, act), eargs, null);
      }
      return;
    }
    boolean random = op.type().startsWith("Random");
    launch(CudaCodegen.generate(op, in, out), args, random ? op : null);
  }

  /** Appends a launch of a generated kernel with pointer arguments (and a random counter). */
  private void launch(CudaCodegen.KernelSource src, List<CUdeviceptr> args, Operation random) {
    CUfunction f = ctx.function(src.source());
    long[] counter = new long[1];
    List<Pointer> params = new ArrayList<>();
    for (CUdeviceptr p : args) {
      params.add(Pointer.to(p));
    }
    if (random != null) {
      params.add(Pointer.to(counter));
    }
    Pointer kernelParams = Pointer.to(params.toArray(Pointer[]::new));
    int grid = src.launch().gridSize();
    long n = src.launch().items();
    String name = random == null ? null : random.name();
    long seed = random == null ? 0 : random.attrs().getLong("seed");
    addStep(new Step() {
      @Override
      public void run(RunState s) {
        if (name != null) {
          counter[0] = session.reserveRandom(name, seed, n);
        }
        check(JCudaDriver.cuLaunchKernel(f, grid, 1, 1, Launch.BLOCK, 1, 1, 0, ctx.stream, kernelParams, null),
            "cuLaunchKernel");
      }

      @Override
      public boolean graphable() {
        return name == null; // a random draw's counter changes every run
      }
    });
  }

  // ------------------------------------------------------------------ fetches and runs

  /** Per fetch: a host slot to copy from, or (device values) a pinned staging offset. */
  private int[] fetchSlot;
  private long[] fetchStage;

  private void buildFetches() {
    int k = placed.fetches().size();
    fetchSlot = new int[k];
    fetchStage = new long[k];
    for (int i = 0; i < k; i++) {
      Output f = placed.fetches().get(i);
      Where p = where.get(f);
      fetchSlot[i] = p.onDevice() ? -1 : p.hostSlot();
      if (p.onDevice()) {
        fetchStage[i] = stage(bytes(types.get(f)));
      }
    }
  }

  /** Variables this plan reads before writing: they must be initialized before it runs. */
  List<CudaVariable> mustBeInitialized() {
    return mustBeInitialized;
  }

  Map<CudaVariable, Boolean> residency() {
    return residency;
  }

  List<CudaVariable> written() {
    return written;
  }

  /** One run: enqueue everything, synchronize once, return the fetched values. */
  List<Tensor> run(Tensor[] feeds) {
    RunState s = new RunState(feeds);
    try {
      // A plan run once (an initializer) is never captured: capture waits for its second run.
      if (useGraph && runs++ > 0 && graphable()) {
        for (Step step : steps) {
          step.prepare(s);
        }
        if (graphExec == null) {
          capture(s);
        }
        if (graphExec != null) {
          check(JCudaDriver.cuGraphLaunch(graphExec, ctx.stream), "cuGraphLaunch");
        } else {
          steps.forEach(step -> step.run(s));
        }
      } else {
        for (Step step : steps) {
          if (step.host()) {
            s.landDownloads();
          }
          step.prepare(s);
          step.run(s);
        }
      }
      List<Output> fs = placed.fetches();
      for (int i = 0; i < fs.size(); i++) {
        if (fetchSlot[i] < 0 && fetchStage[i] >= 0) {
          check(JCudaDriver.cuMemcpyDtoHAsync(pinned.withByteOffset(fetchStage[i]), where.get(fs.get(i)).device(),
              bytes(types.get(fs.get(i))), ctx.stream), "cuMemcpyDtoHAsync");
        }
      }
      ctx.synchronize();
      s.pending.forEach(Runnable::run);
      s.pending.clear();
      List<Tensor> out = new ArrayList<>();
      for (int i = 0; i < fs.size(); i++) {
        TensorType t = types.get(fs.get(i));
        int n = (int) t.shape().numElements();
        Object array = HostBuffers.allocate(t.dtype(), n);
        if (fetchSlot[i] < 0 && fetchStage[i] < 0) {
          ctx.staging.download(where.get(fs.get(i)).device(), array, n);
        } else if (fetchSlot[i] < 0) {
          HostArrays.get(pinnedBuffer, fetchStage[i], array, n);
        } else {
          System.arraycopy(s.frame[fetchSlot[i]], 0, array, 0, n);
        }
        out.add(HostBuffers.adopt(t.dtype(), t.shape(), array));
      }
      return out;
    } catch (RuntimeException | Error e) {
      try {
        ctx.synchronize();
      } catch (RuntimeException ignored) {
        // The run already failed; report that failure.
      }
      throw e;
    }
  }

  /** Device ms per run: {@code reps} runs' device steps enqueued back to back between two events. */
  double deviceMillis(int reps) {
    if (steps.stream().anyMatch(Step::host)) {
      throw new IllegalStateException("the plan has host steps: its device time cannot be measured alone");
    }
    RunState s = new RunState(new Tensor[0]);
    jcuda.driver.CUevent start = new jcuda.driver.CUevent();
    jcuda.driver.CUevent stop = new jcuda.driver.CUevent();
    check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
    check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
    try {
      check(JCudaDriver.cuEventRecord(start, ctx.stream), "cuEventRecord");
      for (int r = 0; r < reps; r++) {
        for (Step step : steps) {
          step.prepare(s);
          step.run(s);
        }
      }
      check(JCudaDriver.cuEventRecord(stop, ctx.stream), "cuEventRecord");
      check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
      s.pending.clear();
      float[] ms = new float[1];
      check(JCudaDriver.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
      return ms[0] / reps;
    } finally {
      JCudaDriver.cuEventDestroy(start);
      JCudaDriver.cuEventDestroy(stop);
    }
  }

  /**
   * Device ms per step, summed by node over {@code reps} runs enqueued back to back, each step
   * bracketed by events (benchmark diagnostics; the plan must have no host steps).
   */
  Map<String, Double> profile(int reps) {
    if (steps.stream().anyMatch(Step::host)) {
      throw new IllegalStateException("the plan has host steps: its device time cannot be measured alone");
    }
    RunState s = new RunState(new Tensor[0]);
    jcuda.driver.CUevent[] events = new jcuda.driver.CUevent[steps.size() + 1];
    for (int i = 0; i < events.length; i++) {
      events[i] = new jcuda.driver.CUevent();
      check(JCudaDriver.cuEventCreate(events[i], 0), "cuEventCreate");
    }
    Map<String, Double> total = new LinkedHashMap<>();
    try {
      float[] ms = new float[1];
      for (int r = 0; r < reps; r++) {
        for (int i = 0; i < steps.size(); i++) {
          check(JCudaDriver.cuEventRecord(events[i], ctx.stream), "cuEventRecord");
          steps.get(i).prepare(s);
          steps.get(i).run(s);
        }
        check(JCudaDriver.cuEventRecord(events[steps.size()], ctx.stream), "cuEventRecord");
        check(JCudaDriver.cuEventSynchronize(events[steps.size()]), "cuEventSynchronize");
        s.pending.clear();
        for (int i = 0; i < steps.size(); i++) {
          check(JCudaDriver.cuEventElapsedTime(ms, events[i], events[i + 1]), "cuEventElapsedTime");
          total.merge(labels.get(i), (double) ms[0] / reps, Double::sum);
        }
      }
    } finally {
      for (jcuda.driver.CUevent e : events) {
        JCudaDriver.cuEventDestroy(e);
      }
    }
    return total;
  }

  // ------------------------------------------------------------------ CUDA-graph replay (default on)

  private boolean useGraph;
  private long runs;
  private Boolean graphable;
  private jcuda.driver.CUgraph graph;
  private jcuda.driver.CUgraphExec graphExec;

  /** Replay runs as one captured CUDA graph where the plan allows it (see {@link #graphable()}). */
  void useCudaGraph(boolean on) {
    useGraph = on;
  }

  /** No host work between device steps and no per-run arguments: a captured graph replays the run. */
  boolean graphable() {
    if (graphable == null) {
      graphable = steps.stream().allMatch(Step::graphable);
    }
    return graphable;
  }

  /**
   * Captures the run's device work once (the prepares are done). If capture fails (cuBLAS or the
   * driver refuses something), the plan stops trying and runs step by step.
   */
  private void capture(RunState s) {
    boolean capturing = false;
    try {
      check(JCudaDriver.cuStreamBeginCapture(ctx.stream, jcuda.driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_RELAXED),
          "cuStreamBeginCapture");
      capturing = true;
      for (Step step : steps) {
        step.run(s);
      }
      jcuda.driver.CUgraph g = new jcuda.driver.CUgraph();
      capturing = false;
      check(JCudaDriver.cuStreamEndCapture(ctx.stream, g), "cuStreamEndCapture");
      graph = g;
      jcuda.driver.CUgraphExec exec = new jcuda.driver.CUgraphExec();
      check(JCudaDriver.cuGraphInstantiate(exec, g, 0), "cuGraphInstantiate");
      graphExec = exec;
    } catch (RuntimeException e) {
      if (capturing) {
        JCudaDriver.cuStreamEndCapture(ctx.stream, new jcuda.driver.CUgraph());
      }
      System.getLogger("dev.kiln.cuda").log(System.Logger.Level.INFO, "CUDA graph capture failed, running step by step: " + e.getMessage());
      graphable = false;
    }
  }

  /** Device bytes this plan holds: its arena and its constants. */
  long deviceBytes() {
    return peakBytes + constantBytes;
  }

  @Override
  public void close() {
    if (graphExec != null) {
      JCudaDriver.cuGraphExecDestroy(graphExec);
      graphExec = null;
    }
    if (graph != null) {
      JCudaDriver.cuGraphDestroy(graph);
      graph = null;
    }
    for (CUdeviceptr p : owned) {
      ctx.free(p);
    }
    owned.clear();
    if (pinned != null) {
      JCudaDriver.cuMemFreeHost(pinned);
      pinned = null;
    }
  }
}
