package dev.kiln.runtime.fused;

import dev.kiln.runtime.kernels.BroadcastCopy;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelFactory;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.KernelSupport;
import dev.kiln.runtime.kernels.Parallel;
import dev.kiln.runtime.kernels.ScratchPool;
import dev.kiln.runtime.kernels.SegmentedReduction;
import dev.kiln.runtime.kernels.VectorSupport;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.TensorType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The CPU kernel of a {@code Fused} node: a block-at-a-time vectorized interpreter. At creation the
 * body is compiled into a short program of row operations over "registers" (arrays of a thread's scratch,
 * {@code FusedKernelOptions.blockElements()} elements); a run walks the dense iteration space (the broadcast of the elementwise
 * results and of the reductions' inputs) in blocks, so every intermediate stays in L1 and the
 * tensors are read and written once.
 *
 * <p>Value locations per block: an input whose size equals the space is read in place, a 1-element
 * input or a body constant is a scalar ("uniform") operand, any other input is gathered into a
 * register ({@link BroadcastCopy}); a result the size of the space is written straight into its
 * output, a smaller one is scattered there at the end of the block. Values computed only from
 * uniform operands are computed once per block on one element. Registers are reused once their
 * value is dead. A reduction that ends the body (over trailing axes) is folded where its input is
 * computed, block by block ({@link SegmentedReduction}); its input is not stored unless it is a
 * result too. Chunks of blocks are taken in turn by the cores for large spaces.
 *
 * <p>The row operations are the library's own elementwise loops (so a fused op computes exactly what
 * the unfused op does), except float arithmetic ({@link VectorArithmetic}, bit-identical) and
 * transcendental functions on floats, which go through the Vector API ({@link VectorMath},
 * {@link WideVectorMath}) when it is available; without it, float arithmetic, exp, sigmoid and tanh
 * are plain loops C2 vectorizes ({@link ScalarArithmetic}, {@link ScalarMath}: the same bits).
 */
public final class FusedKernel implements Kernel {
  /** One row operation of the program over value locations (array, offset) for n elements. */
  @FunctionalInterface
  public interface Instr {
    void run(Object[] arr, int[] off, int n);
  }

  private record Gather(int value, int input, BroadcastCopy copy) {}

  private record Store(int value, int output, boolean uniform, BroadcastCopy scatter) {}

  private final String where;
  private final int size;
  private final int[] inSlots;
  private final int[] outSlots;
  private final int nValues;
  private final int[] directIn;    // value index -> input number read in place, or -1
  private final int[] uniformIn;   // value index -> input number read as a scalar, or -1
  private final int[] directOut;   // value index -> output number written in place, or -1
  private final Object[] constants; // value index -> constant array, or null
  private final int[] register;    // value index -> register number, or -1
  private final DType[] registerTypes;
  private final boolean[] registerUniform;
  private final Gather[] gathers;
  private final Instr[] program;
  private final boolean[] instrUniform;
  private final Store[] stores;
  private final SegmentedReduction[] reduceAt; // program index -> the reduction folded there, or null
  private final SegmentedReduction[] reductions;
  private final int[] reductionSizes;      // output elements of each reduction
  private final int indexScratch;
  private final int parts;
  /** Scratch of the threads running this kernel: it goes when the kernel (its plan) goes. */
  private final ScratchPool<Scratch> scratch;

  /** A thread's state while it runs blocks: the registers and the per-block location table. */
  private final class Scratch {
    final Object[] arr = new Object[nValues];
    final int[] off = new int[nValues];
    final int[] idx = new int[indexScratch];
    // A run's block partials of each reduction (the calling thread's scratch holds them for the run).
    final double[][] partials = new double[reductions.length][2 * ((size + block - 1) / block)];

    Scratch() {
      Object[] regs = new Object[registerTypes.length];
      for (int r = 0; r < regs.length; r++) {
        regs[r] = registerUsed[r] ? HostBuffers.allocate(registerTypes[r], registerUniform[r] ? 1 : block) : null;
      }
      for (int v = 0; v < nValues; v++) {
        if (register[v] >= 0) {
          arr[v] = regs[register[v]];
        } else if (constants[v] != null) {
          arr[v] = constants[v];
        }
      }
    }
  }

  public static KernelFactory factory() {
    return spec -> new FusedKernel(spec, FusedCodegen.ENABLED && spec.fused().generateLoops());
  }

  /** The kernel with its body always run row by row (tests compare the two ways). */
  public static FusedKernel interpreted(KernelSpec spec) {
    return new FusedKernel(spec, false);
  }

  private FusedKernel(KernelSpec spec, boolean mayGenerate) {
    Operation op = spec.op();
    this.where = op.type() + " '" + op.name() + "': ";
    Subgraph body = op.subgraphs().get(0);
    this.inSlots = spec.inputSlots();
    this.outSlots = spec.outputSlots();
    List<Operation> nodes = body.graph().operations();
    Map<Output, Integer> valueOf = new HashMap<>();
    for (Operation n : nodes) {
      valueOf.put(n.output(0), valueOf.size());
    }
    // The iteration space: the broadcast of the elementwise results and of the reductions' inputs.
    Shape[] shapes = concreteShapes(spec, body, valueOf);
    Shape space = Shape.scalar();
    for (int j = 0; j < body.results().size(); j++) {
      Operation producer = body.results().get(j).op();
      Shape t = isReduction(producer) ? shapes[valueOf.get(producer.input(0))] : spec.outputs().get(j).shape();
      Shape b = Shape.broadcast(space, t);
      if (b == null) {
        throw KernelSupport.error(spec, "outputs %s and %s do not broadcast to one iteration space", space, t);
      }
      space = b;
    }
    int[] dense = space.dims();
    this.size = KernelSupport.size(new TensorType(DType.FLOAT32, space));
    this.nValues = valueOf.size();
    directIn = filled(nValues);
    uniformIn = filled(nValues);
    directOut = filled(nValues);
    constants = new Object[nValues];
    register = filled(nValues);
    boolean[] uniform = new boolean[nValues];
    DType[] dtype = new DType[nValues];
    for (Operation n : nodes) {
      dtype[valueOf.get(n.output(0))] = n.output(0).dtype();
    }

    // Identity/StopGradient in a body are aliases; then the last reader of each value (register reuse).
    int[] alias = filled(nValues);
    for (Operation n : nodes) {
      if (isAlias(n)) {
        alias[valueOf.get(n.output(0))] = resolve(alias, valueOf.get(n.input(0)));
      }
    }
    int[] lastUse = filled(nValues);
    for (int s = 0; s < nodes.size(); s++) {
      for (Output in : nodes.get(s).inputs()) {
        lastUse[resolve(alias, valueOf.get(in))] = s;
      }
    }
    for (Output r : body.results()) {
      lastUse[resolve(alias, valueOf.get(r))] = Integer.MAX_VALUE;
    }
    // A body over fewer elements than one vector runs plain loops: the Vector API would run all of it as a
    // masked tail, which stays on its slow lane-by-lane path for thousands of calls before the JIT catches up.
    boolean vector = VectorSupport.AVAILABLE && size >= VECTOR_MIN_ELEMENTS;
    this.vectorRows = vector;
    boolean inPlace = vector || !hasPlainLoopRows(nodes);
    List<Gather> gathers = new ArrayList<>();
    for (int i = 0; i < body.parameters().size(); i++) {
      int v = valueOf.get(body.parameters().get(i));
      TensorType t = spec.inputs().get(i);
      long n = t.shape().numElements();
      if (n == size && (inPlace || n == 1)) {
        directIn[v] = i;
      } else if (n == 1) {
        uniformIn[v] = i;
        uniform[v] = true;
      } else {
        gathers.add(new Gather(v, i, BroadcastCopy.of(t.dtype(), dense, t.shape().dims())));
      }
    }
    boolean[] outputTaken = new boolean[outSlots.length];
    for (int j = 0; j < body.results().size(); j++) {
      int v = valueOf.get(body.results().get(j));
      Operation producer = body.results().get(j).op();
      boolean computed = !producer.type().equals("Parameter") && !producer.type().equals("Const")
          && !isAlias(producer) && !isReduction(producer);
      if (computed && directOut[v] < 0 && spec.outputs().get(j).shape().numElements() == size && size > 0
          && (inPlace || size == 1)) {
        directOut[v] = j;
        outputTaken[j] = true;
      }
    }

    List<DType> regTypes = new ArrayList<>();
    List<Boolean> regUniform = new ArrayList<>();
    Map<String, Deque<Integer>> free = new HashMap<>();
    List<Instr> program = new ArrayList<>();
    List<Boolean> programUniform = new ArrayList<>();
    List<SegmentedReduction> reduceAt = new ArrayList<>();
    List<SegmentedReduction> reductions = new ArrayList<>();
    List<Integer> reductionSizes = new ArrayList<>();
    for (Gather g : gathers) {
      register[g.value()] = newRegister(dtype[g.value()], false, regTypes, regUniform, free);
    }
    // Readers of each value (a result counts as one): a value read once, by the very next row, can be
    // computed inside that row (FusedInstructions.pair).
    int[] uses = new int[nValues];
    for (Operation n : nodes) {
      for (Output in : n.inputs()) {
        uses[resolve(alias, valueOf.get(in))]++;
      }
    }
    for (Output r : body.results()) {
      uses[resolve(alias, valueOf.get(r))]++;
    }
    int lastNode = -1; // the node of the program's last row (lastRow), if an instruction
    int lastRow = -1;
    int lastValue = -1;
    int[] lastIns = null;
    for (int s = 0; s < nodes.size(); s++) {
      Operation n = nodes.get(s);
      int v = valueOf.get(n.output(0));
      switch (n.type()) {
        case "Parameter" -> { }
        case "Const" -> {
          constants[v] = HostBuffers.array(n.attrs().getTensor("value"));
          uniform[v] = true;
        }
        default -> {
          if (isAlias(n)) {
            break;
          }
          if (isReduction(n)) {
            int in = resolve(alias, valueOf.get(n.input(0)));
            SegmentedReduction r = SegmentedReduction.ofFusedBody(spec, body, n, in, shapes[in], space,
                reductions.size(), spec.fused().blockElements() <= 4096);
            if (r != null) {
              reductions.add(r);
              reductionSizes.add(KernelSupport.size(spec.outputs().get(body.results().indexOf(n.output(0)))));
              program.add(NOTHING);
              programUniform.add(false);
              reduceAt.add(r);
            }
            release(new int[] {in}, s, lastUse, register, dtype, uniform, free);
            break;
          }
          int[] ins = new int[n.numInputs()];
          boolean allUniform = true;
          for (int k = 0; k < ins.length; k++) {
            ins[k] = resolve(alias, valueOf.get(n.input(k)));
            allUniform &= uniform[ins[k]];
          }
          uniform[v] = allUniform;
          boolean addN = Elementwise.is(n, Primitive.ADD_N);
          if (!addN) {
            release(ins, s, lastUse, register, dtype, uniform, free);
          }
          if (directOut[v] < 0 || uniform[v]) {
            directOut[v] = -1;
            register[v] = newRegister(dtype[v], uniform[v], regTypes, regUniform, free);
          }
          if (addN) {
            release(ins, s, lastUse, register, dtype, uniform, free);
          }
          Instr pair = lastNode >= 0 && lastRow == program.size() - 1 && uses[lastValue] == 1 && !uniform[lastValue] && !uniform[v]
              ? FusedInstructions.pair(nodes.get(lastNode), lastIns, n, ins, lastValue, v, uniform, vector)
              : null;
          if (pair != null) {
            program.set(program.size() - 1, NOTHING); // its value is computed inside the pair
          }
          program.add(pair != null ? pair : FusedInstructions.of(n, ins, v, uniform, vector, where));
          programUniform.add(uniform[v]);
          reduceAt.add(null);
          lastNode = pair != null ? -1 : s; // a pair is not the first of another
          lastRow = program.size() - 1;
          lastValue = v;
          lastIns = ins;
        }
      }
    }
    // Results not written in place: copied (or scattered) into their outputs at the end of a block.
    List<Store> stores = new ArrayList<>();
    int maxRank = 1;
    for (Gather g : gathers) {
      maxRank = Math.max(maxRank, g.copy().rank());
    }
    for (int j = 0; j < body.results().size(); j++) {
      int v = resolve(alias, valueOf.get(body.results().get(j)));
      if (directOut[v] == j || isReduction(body.results().get(j).op())) {
        continue;
      }
      TensorType t = spec.outputs().get(j);
      BroadcastCopy sc = t.shape().numElements() == size ? null : BroadcastCopy.of(t.dtype(), dense, t.shape().dims());
      if (sc != null) {
        maxRank = Math.max(maxRank, sc.rank());
      }
      stores.add(new Store(v, j, uniform[v], sc));
    }
    // The whole body as one generated loop when it can be (FusedCodegen): the same values, no rows.
    FusedCodegen.Loops generated = mayGenerate && size >= spec.fused().generateMinElements()
        ? generatedLoop(nodes, valueOf, alias, dtype, uniform, directOut, register, stores, reductions)
        : null;
    if (generated != null) {
      program.clear();
      programUniform.clear();
      reduceAt.clear();
      program.add(generated);
      programUniform.add(false);
      reduceAt.add(null);
      for (SegmentedReduction r : reductions) {
        program.add(NOTHING);
        programUniform.add(false);
        reduceAt.add(r);
      }
    }
    this.codegen = generated != null;
    this.block = codegen ? spec.fused().generatedBlockElements() : spec.fused().blockElements();
    // A generated loop keeps its intermediates in vector registers: only the block buffers the
    // framework reads or writes (gathers, stores, reductions) and the loops' stored values are used.
    this.registerUsed = new boolean[regTypes.size()];
    java.util.Arrays.fill(registerUsed, !codegen);
    if (codegen) {
      List<Integer> used = new ArrayList<>();
      gathers.forEach(g -> used.add(g.value()));
      stores.forEach(st -> used.add(st.value()));
      reductions.forEach(r -> used.add(r.value));
      for (int v : generated.stored()) {
        used.add(v);
      }
      for (int v : used) {
        if (register[v] >= 0) {
          registerUsed[register[v]] = true;
        }
      }
    }
    // A directly written result read again as another result: its location is the output array.
    this.indexScratch = maxRank;
    this.registerTypes = regTypes.toArray(DType[]::new);
    this.registerUniform = new boolean[regUniform.size()];
    for (int r = 0; r < registerUniform.length; r++) {
      registerUniform[r] = regUniform.get(r);
    }
    for (int v = 0; v < nValues; v++) {
      if (alias[v] >= 0) {
        register[v] = -1;
      }
    }
    this.gathers = gathers.toArray(Gather[]::new);
    this.program = program.toArray(Instr[]::new);
    this.instrUniform = new boolean[programUniform.size()];
    for (int i = 0; i < instrUniform.length; i++) {
      instrUniform[i] = programUniform.get(i);
    }
    this.stores = stores.toArray(Store[]::new);
    this.reduceAt = reduceAt.toArray(SegmentedReduction[]::new);
    this.reductions = reductions.toArray(SegmentedReduction[]::new);
    this.reductionSizes = reductionSizes.stream().mapToInt(Integer::intValue).toArray();
    this.aliasOf = alias;
    this.parts = Parallel.parts((size + block - 1) / block, (long) block * Math.max(1, program.size()));
    this.scratch = new ScratchPool<>(Scratch::new);
  }

  private final int[] aliasOf;
  /** Elements per block: the Session's {@code blockElements}, or {@code generatedBlockElements} for a generated loop. */
  private final int block;

  /** Elements per block this kernel walks its iteration space in. */
  public int blockElements() {
    return block;
  }

  /** Registers given a buffer in each scratch (a generated loop leaves most of them unused). */
  private final boolean[] registerUsed;
  /** True when the body runs as one generated loop per block rather than row by row. */
  public final boolean codegen;
  /** True when the rows use the Vector API (it is present and the body has a vector's worth of elements). */
  public final boolean vectorRows;

  /** The generated loop, or null (tests: equal bodies share one). */
  public Instr generated() {
    return codegen ? program[0] : null;
  }

  /**
   * The generated loop for a float body of the ops FusedCodegen knows, or null. Kept values: the
   * stored results and the reductions' inputs that the body computes; they must not share a register
   * (the loop stores them all at the end of each vector, so a shared register would be overwritten).
   */
  private static FusedCodegen.Loops generatedLoop(List<Operation> nodes, Map<Output, Integer> valueOf, int[] alias, DType[] dtype,
      boolean[] uniform, int[] directOut, int[] register, List<Store> stores, List<SegmentedReduction> reductions) {
    List<FusedCodegen.Node> ops = new ArrayList<>();
    FusedCodegen.Source[] sources = new FusedCodegen.Source[dtype.length];
    boolean[] computed = new boolean[dtype.length];
    int reductionNodes = 0;
    for (Operation n : nodes) {
      int v = valueOf.get(n.output(0));
      Primitive p = Elementwise.primitive(n).orElse(null);
      boolean mask = p != null && p.isComparison() && dtype[v] == DType.BOOL
          && dtype[resolve(alias, valueOf.get(n.input(0)))] == DType.FLOAT32;
      if (dtype[v] != DType.FLOAT32 && !mask) {
        return null;
      }
      if (n.type().equals("Parameter") || n.type().equals("Const")) {
        sources[v] = uniform[v] ? FusedCodegen.Source.UNIFORM : FusedCodegen.Source.BLOCK;
      } else if (isReduction(n)) {
        reductionNodes++;
      } else if (!isAlias(n)) {
        if (p == null || !FusedCodegen.OPS.contains(p)) {
          return null;
        }
        int[] ins = new int[n.numInputs()];
        for (int k = 0; k < ins.length; k++) {
          ins[k] = resolve(alias, valueOf.get(n.input(k)));
        }
        ops.add(new FusedCodegen.Node(p, ins, v));
        computed[v] = true;
      }
    }
    if (ops.isEmpty() || ops.size() > FusedCodegen.MAX_OPS || reductionNodes != reductions.size()) {
      return null;
    }
    LinkedHashSet<Integer> kept = new LinkedHashSet<>();
    for (Store st : stores) {
      kept.add(st.value());
    }
    for (SegmentedReduction r : reductions) {
      if (r.value < 0) {
        return null;
      }
      kept.add(r.value);
    }
    for (int v = 0; v < directOut.length; v++) {
      if (directOut[v] >= 0) {
        kept.add(v);
      }
    }
    kept.removeIf(v -> !computed[v]);
    return FusedCodegen.compile(ops, sources, kept.stream().mapToInt(Integer::intValue).toArray(), uniform, register);
  }

  /**
   * True when some row of the body is a float loop of ScalarArithmetic or ScalarMath (run without
   * the Vector API). C2 vectorizes those only when their arrays share one index (it cannot rule out
   * that two float arrays at different offsets overlap), so such a body keeps every value at offset
   * 0 of a block register: inputs the size of the space are copied in, results copied out, rather
   * than read and written where they are. Other bodies (comparisons, selects, other dtypes) gain
   * nothing from the copies.
   */
  /** Elements from which a body's rows use the Vector API: one float vector of the widest species. */
  public static final int VECTOR_MIN_ELEMENTS = 16;

  private static boolean hasPlainLoopRows(List<Operation> nodes) {
    return nodes.stream().anyMatch(n -> Elementwise.primitive(n).filter(PLAIN_LOOP_OPS::contains).isPresent()
        && n.output(0).dtype() == DType.FLOAT32);
  }

  private static final java.util.Set<Primitive> PLAIN_LOOP_OPS = java.util.EnumSet.of(Primitive.ADD, Primitive.SUB,
      Primitive.MUL, Primitive.DIV, Primitive.MAXIMUM, Primitive.MINIMUM, Primitive.ADD_N, Primitive.NEG,
      Primitive.SQUARE, Primitive.ABS, Primitive.RELU, Primitive.SQRT, Primitive.RSQRT, Primitive.RECIPROCAL,
      Primitive.EXP, Primitive.SIGMOID, Primitive.TANH);

  /** Identity and StopGradient: an elementwise view, the value of its input. */
  private static boolean isAlias(Operation n) {
    return n.def().traits().contains(OpTrait.VIEW);
  }

  private static final Instr NOTHING = (arr, off, n) -> { };

  private static boolean isReduction(Operation n) {
    return switch (n.type()) {
      case "Sum", "Mean", "Max", "Min", "Prod" -> true;
      default -> false;
    };
  }

  /** The concrete shape of every body value: inputs' shapes, broadcast through the body. */
  private static Shape[] concreteShapes(KernelSpec spec, Subgraph body, Map<Output, Integer> valueOf) {
    Shape[] shapes = new Shape[valueOf.size()];
    for (int i = 0; i < body.parameters().size(); i++) {
      shapes[valueOf.get(body.parameters().get(i))] = spec.inputs().get(i).shape();
    }
    for (Operation n : body.graph().operations()) {
      int v = valueOf.get(n.output(0));
      if (shapes[v] != null) {
        continue;
      }
      Shape s = Shape.scalar();
      if (!n.type().equals("Const")) {
        for (Output in : n.inputs()) {
          Shape b = Shape.broadcast(s, shapes[valueOf.get(in)]);
          s = b == null ? s : b; // inference has checked the broadcasts
        }
      }
      shapes[v] = s; // a reduction's own shape is not used: its output's is the spec's
    }
    return shapes;
  }

  private static int resolve(int[] alias, int v) {
    while (alias[v] >= 0) {
      v = alias[v];
    }
    return v;
  }

  /** Frees the registers of inputs whose last reader is node {@code s}. */
  private static void release(int[] ins, int s, int[] lastUse, int[] register, DType[] dtype, boolean[] uniform,
      Map<String, Deque<Integer>> free) {
    for (int k = 0; k < ins.length; k++) {
      int v = ins[k];
      if (lastUse[v] == s && register[v] >= 0 && !contains(ins, k, v)) {
        free.computeIfAbsent(key(dtype[v], uniform[v]), x -> new ArrayDeque<>()).push(register[v]);
      }
    }
  }

  private static boolean contains(int[] a, int before, int v) {
    for (int i = 0; i < before; i++) {
      if (a[i] == v) {
        return true;
      }
    }
    return false;
  }

  private static String key(DType d, boolean uniform) {
    return d.name() + (uniform ? "/1" : "");
  }

  private static int newRegister(DType d, boolean uniform, List<DType> types, List<Boolean> uniforms,
      Map<String, Deque<Integer>> free) {
    Deque<Integer> f = free.get(key(d, uniform));
    if (f != null && !f.isEmpty()) {
      return f.pop();
    }
    types.add(d);
    uniforms.add(uniform);
    return types.size() - 1;
  }

  private static int[] filled(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, -1);
    return a;
  }

  @Override
  public void run(Object[] frame) {
    if (size == 0) {
      for (int r = 0; r < reductions.length; r++) {
        reductions[r].fillEmpty(reductionSizes[r], frame, outSlots);
      }
      return;
    }
    int blocks = (size + block - 1) / block;
    // The caller's scratch holds the run's partials; each part of a split run takes its own.
    Scratch mine = scratch.take();
    try {
      double[][] partials = mine.partials;
      try {
        if (parts <= 1) {
          runBlocks(frame, 0, blocks, partials, mine);
        } else {
          // Chunks of 16 blocks taken in turn, so that a core that gets less time still finishes with the other.
          Parallel.dynamic(blocks, 16, parts, (lo, hi) -> {
            Scratch s = scratch.take();
            try {
              runBlocks(frame, lo, hi, partials, s);
            } finally {
              release(s);
            }
          });
        }
      } catch (ArithmeticException e) {
        throw new ArithmeticException(where + e.getMessage());
      }
      for (int r = 0; r < reductions.length; r++) {
        reductions[r].combine(partials[r], size, block, frame, outSlots);
      }
    } finally {
      release(mine);
    }
  }

  /** Gives {@code s} back, dropping the run's arrays it points at (they are the caller's, not the kernel's). */
  private void release(Scratch s) {
    for (int v = 0; v < nValues; v++) {
      if (directIn[v] >= 0 || uniformIn[v] >= 0 || directOut[v] >= 0) {
        s.arr[v] = null;
      }
    }
    scratch.give(s);
  }

  private void runBlocks(Object[] frame, int fromBlock, int toBlock, double[][] partials, Scratch s) {
    Object[] arr = s.arr;
    int[] off = s.off;
    for (int v = 0; v < nValues; v++) {
      if (directIn[v] >= 0) {
        arr[v] = frame[inSlots[directIn[v]]];
      } else if (uniformIn[v] >= 0) {
        arr[v] = frame[inSlots[uniformIn[v]]];
        off[v] = 0;
      } else if (directOut[v] >= 0) {
        arr[v] = frame[outSlots[directOut[v]]];
      }
    }
    for (int v = 0; v < nValues; v++) {
      if (aliasOf[v] >= 0) {
        arr[v] = null; // never read: instructions use the resolved value
      }
    }
    for (int b = fromBlock; b < toBlock; b++) {
      int lo = b * block;
      int n = Math.min(block, size - lo);
      for (int v = 0; v < nValues; v++) {
        if (directIn[v] >= 0 || directOut[v] >= 0) {
          off[v] = lo;
        }
      }
      for (Gather g : gathers) {
        g.copy().gather(frame[inSlots[g.input()]], arr[g.value()], 0, lo, n, s.idx);
      }
      for (int i = 0; i < program.length; i++) {
        SegmentedReduction r = reduceAt[i];
        if (r == null) {
          program[i].run(arr, off, instrUniform[i] ? 1 : n);
        } else {
          r.accumulate(arr[r.value], off[r.value], lo, n, b, partials[r.index], frame, outSlots);
        }
      }
      for (Store st : stores) {
        Object out = frame[outSlots[st.output()]];
        int v = st.value();
        if (st.uniform()) {
          if (st.scatter() == null) {
            FusedInstructions.broadcastInto(arr[v], off[v], out, lo, n);
          } else {
            System.arraycopy(arr[v], off[v], out, 0, 1); // a 1-element output of a uniform value
          }
        } else if (st.scatter() == null) {
          System.arraycopy(arr[v], off[v], out, lo, n);
        } else {
          st.scatter().scatter(arr[v], off[v], out, lo, n, s.idx);
        }
      }
    }
  }
}
