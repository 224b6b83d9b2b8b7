package dev.kiln.runtime.kernels;

import dev.kiln.runtime.CpuKernels;
import dev.kiln.runtime.HostKernel;
import dev.kiln.runtime.fused.FusedKernel;
import dev.kiln.runtime.fused.FusedMatMulKernel;

import dev.kiln.graph.Elementwise;
import dev.kiln.graph.ElementwiseOp;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The CPU kernel library: a {@link KernelFactory} for every built-in op type that runs as a kernel
 * (all but the {@link #PLAN_EXECUTED} ops and the VIEW ops the plan aliases), then the kernels users
 * registered with {@link CpuKernels}; and which op types the fused kernel computes inside a Fused
 * body. An elementwise op ({@code ElementwiseOp}) has no entry here: a primitive gets its kernel
 * from {@link PrimitiveKernels} by its {@code Primitive}, a composite runs as a Fused kernel of its
 * expansion. {@link CpuKernelRegistry} shows this table to the optimizer.
 *
 * <p>What a plan can rely on: {@code create} does all shape work (broadcast plans, strides, BLAS
 * loading) and fails with an {@code IllegalArgumentException} naming op type, node and the problem.
 * A kernel is immutable and may run concurrently on different frames. It reads only its input slots
 * (never modifying them), writes every element of its output slots (so outputs need no clearing), and
 * allocates nothing on the single-threaded path; ops over more than about 64K elements split over the
 * cores. Runtime failures are an {@code ArithmeticException} (integer division by zero, negative
 * integer power) or, for user kernels, an {@code IllegalStateException}, each naming the node.
 * Outputs must not share an array with an input except where {@link #allowsInPlace} says so.
 */
public final class Kernels {
  private Kernels() {}

  private static final Map<String, KernelFactory> BUILTIN = builtins();

  private static Map<String, KernelFactory> builtins() {
    Map<String, KernelFactory> m = new TreeMap<>();
    m.put("Fill", FillKernels.fill());

    m.put("MatMul", MatMulKernels.factory());
    m.put("Softmax", AxisKernels.softmax(false));
    m.put("LogSoftmax", AxisKernels.softmax(true));
    m.put("ArgMax", AxisKernels.argMax());

    m.put("Sum", ReduceKernels.reduce(ReduceKernels.Op.SUM, false));
    m.put("Mean", ReduceKernels.reduce(ReduceKernels.Op.SUM, true));
    m.put("Max", ReduceKernels.reduce(ReduceKernels.Op.MAX, false));
    m.put("Min", ReduceKernels.reduce(ReduceKernels.Op.MIN, false));
    m.put("Prod", ReduceKernels.reduce(ReduceKernels.Op.PROD, false));
    m.put("ReduceSumLike", ReduceKernels.sumLike());

    m.put("Transpose", LayoutKernels.transpose());
    m.put("Concat", LayoutKernels.concat());
    m.put("Slice", LayoutKernels.slice());
    m.put("Pad", LayoutKernels.pad());
    m.put("OneHot", LayoutKernels.oneHot());

    m.put("Gather", GatherKernels.gather());
    m.put("GatherGrad", GatherKernels.gatherGrad());
    m.put("GatherNd", GatherKernels.gatherNd());
    m.put("ScatterNd", GatherKernels.scatterNd());
    m.put("BatchMatMul", BatchMatMulKernel.factory());
    m.put("Tile", ArrayKernels.tile());
    m.put("BroadcastTo", ArrayKernels.broadcastTo());
    m.put("Cumsum", ArrayKernels.cumsum());
    m.put("TopK", ArrayKernels.topK());
    m.put("Range", ArrayKernels.range());
    m.put("ArgMin", ArrayKernels.argMin());
    m.put("BatchNorm", NormKernels.batchNorm());
    m.put("BatchNormGrad", NormKernels.batchNormGrad());
    m.put("LayerNorm", LayerNormKernels.layerNorm());
    m.put("LayerNormGrad", LayerNormKernels.layerNormGrad());
    m.put("Conv2D", ConvKernels.factory(ConvKernels.Kind.FORWARD));
    m.put("Conv2DBackpropInput", ConvKernels.factory(ConvKernels.Kind.BACKPROP_INPUT));
    m.put("Conv2DBackpropFilter", ConvKernels.factory(ConvKernels.Kind.BACKPROP_FILTER));
    m.put("MaxPool", PoolKernels.factory(PoolKernels.Kind.MAX));
    m.put("AvgPool", PoolKernels.factory(PoolKernels.Kind.AVG));
    m.put("MaxPoolGrad", PoolKernels.factory(PoolKernels.Kind.MAX_GRAD));
    m.put("AvgPoolGrad", PoolKernels.factory(PoolKernels.Kind.AVG_GRAD));
    m.put("BiasAdd", PoolKernels.biasAdd());

    m.put("Fused", FusedKernel.factory());
    m.put("FusedMatMul", FusedMatMulKernel.factory());
    m.put("FusedConv2D", FusedConvKernel.factory());
    m.put("Gemm", MatMulKernels.gemm());
    m.put("TensorArrayWrite", TensorArrayKernels.write());
    m.put("TensorArrayRead", TensorArrayKernels.read());
    m.put("StackRead", TensorArrayKernels.stackRead());
    m.put("TensorArrayAccumulate", TensorArrayKernels.accumulate());
    // Control flow: bodies compiled into plans of their own; random nodes in them draw from the
    // kernel's own streams here (a Session's plans bind the Session's streams instead).
    m.put("If", spec -> dev.kiln.runtime.exec.ControlFlowKernels.create(spec, null));
    m.put("While", spec -> dev.kiln.runtime.exec.ControlFlowKernels.create(spec, null));
    return Map.copyOf(m);
  }

  /**
   * The factory for {@code opType}: a built-in kernel, else a registered {@link HostKernel}; a node
   * that involves narrow dtypes gets the kernel built for its compute types ({@link NarrowTypes}).
   *
   * @throws IllegalArgumentException if the op type has no CPU kernel
   */
  public static KernelFactory factory(String opType) {
    KernelFactory f = ownFactory(opType);
    return spec -> NarrowTypes.create(spec, f);
  }

  /** The kernel for {@code spec}: {@code factory(spec.op().type()).create(spec)}. */
  public static Kernel create(KernelSpec spec) {
    return factory(spec.op().type()).create(spec);
  }

  private static KernelFactory ownFactory(String opType) {
    KernelFactory f = BUILTIN.get(opType);
    if (f != null) {
      return f;
    }
    if (OpRegistry.find(opType).orElse(null) instanceof ElementwiseOp e) {
      // A primitive has its kernel; a composite runs as a Fused node of its expansion.
      return e.primitive().map(PrimitiveKernels::factory).orElseGet(Kernels::asFused);
    }
    HostKernel user = CpuKernels.find(opType).orElseThrow(
        () -> new IllegalArgumentException("no CPU kernel for op type '" + opType + "'"));
    return spec -> new HostKernelAdapter(spec, user);
  }

  /** A node run as a one-node Fused kernel of its expansion into primitives. */
  static KernelFactory asFused() {
    return spec -> FusedKernel.factory().create(new KernelSpec(Elementwise.asFused(spec.op()), spec.inputs(),
        spec.outputs(), spec.inputSlots(), spec.outputSlots(), spec.fused()));
  }

  /**
   * Op types the plan runs itself rather than through a kernel of this table: feeds, constants,
   * variables and their assigns, random sources (they need the Session's state) and NoOp.
   */
  static final Set<String> PLAN_EXECUTED = Set.of("Placeholder", "Const", "Variable", "Assign", "AssignAdd",
      "AssignSub", "RandomNormal", "RandomUniform", "NoOp");

  /**
   * The reductions {@link FusedKernel} folds at the end of a Fused body; besides them it computes
   * every elementwise op ({@link #fuses}).
   */
  static final Set<String> FUSED_REDUCTIONS = Set.of("Sum", "Mean", "Max", "Min");

  /** Whether {@link FusedKernel} computes nodes of {@code opType} inside a Fused body. */
  public static boolean fuses(String opType) {
    return FUSED_REDUCTIONS.contains(opType) || isDefinedElementwise(opType);
  }

  /**
   * Whether a built-in kernel stays correct when its output slot holds the same array as input
   * {@code input} (for a memory planner that reuses a dead input's buffer). The planner must also check
   * that the input has exactly the output's dtype and shape; other op types never allow it.
   */
  public static boolean allowsInPlace(String opType, int input) {
    java.util.Optional<OpDef> def = OpRegistry.find(opType);
    if (def.isPresent() && def.get().primitive().isPresent()) {
      return PrimitiveKernels.allowsInPlace(def.get().primitive().get(), input);
    }
    return opType.equals("Softmax") || opType.equals("LogSoftmax")
        || (opType.equals("Gemm") && input == 2) // c, the accumulator BLAS updates in place
        || ((opType.equals("TensorArrayWrite") || opType.equals("TensorArrayAccumulate")) && input == 0); // one element changed
  }

  public static boolean isBuiltin(String opType) {
    return BUILTIN.containsKey(opType) || isDefinedElementwise(opType);
  }

  /** An op type defined by an {@link ElementwiseOp}: the fused kernel computes every one of them. */
  static boolean isDefinedElementwise(String opType) {
    return OpRegistry.find(opType).orElse(null) instanceof ElementwiseOp;
  }

  /** The op types with a built-in kernel. */
  public static Set<String> builtinTypes() {
    Set<String> types = new java.util.TreeSet<>(BUILTIN.keySet());
    OpRegistry.types().stream().filter(Kernels::isDefinedElementwise).forEach(types::add);
    return types;
  }
}
