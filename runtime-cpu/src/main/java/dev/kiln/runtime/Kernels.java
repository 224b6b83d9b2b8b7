package dev.kiln.runtime;

import dev.kiln.graph.ElementwiseOp;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.OpRegistry;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The CPU kernel library: a {@link KernelFactory} for every built-in op type that runs as a kernel
 * (all but the {@link #PLAN_EXECUTED} ops and the VIEW ops the plan aliases), then the kernels users
 * registered with {@link CpuKernels}; and which op types the fused kernel computes inside a Fused
 * body. {@link CpuKernelRegistry} shows this table to the optimizer.
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
final class Kernels {
  private Kernels() {}

  private static final Map<String, KernelFactory> BUILTIN = builtins();

  private static Map<String, KernelFactory> builtins() {
    Map<String, KernelFactory> m = new TreeMap<>();
    m.put("Neg", UnaryKernels.factory(UnaryKernels.Op.NEG));
    m.put("Square", UnaryKernels.factory(UnaryKernels.Op.SQUARE));
    m.put("Abs", UnaryKernels.factory(UnaryKernels.Op.ABS));
    m.put("Sign", UnaryKernels.factory(UnaryKernels.Op.SIGN));
    m.put("Relu", UnaryKernels.factory(UnaryKernels.Op.RELU));
    m.put("Sqrt", UnaryKernels.factory(UnaryKernels.Op.SQRT));
    m.put("Rsqrt", UnaryKernels.factory(UnaryKernels.Op.RSQRT));
    m.put("Reciprocal", UnaryKernels.factory(UnaryKernels.Op.RECIPROCAL));
    m.put("Exp", UnaryKernels.factory(UnaryKernels.Op.EXP));
    m.put("Log", UnaryKernels.factory(UnaryKernels.Op.LOG));
    m.put("Sin", UnaryKernels.factory(UnaryKernels.Op.SIN));
    m.put("Cos", UnaryKernels.factory(UnaryKernels.Op.COS));
    m.put("Sigmoid", UnaryKernels.factory(UnaryKernels.Op.SIGMOID));
    m.put("Tanh", UnaryKernels.factory(UnaryKernels.Op.TANH));
    m.put("LogicalNot", UnaryKernels.factory(UnaryKernels.Op.LOGICAL_NOT));
    m.put("ZerosLike", FillKernels.constant(false));
    m.put("OnesLike", FillKernels.constant(true));
    m.put("Fill", FillKernels.fill());
    m.put("Cast", CastKernel.factory());

    m.put("Add", ArithmeticKernels.factory(ArithmeticKernels.Op.ADD));
    m.put("Sub", ArithmeticKernels.factory(ArithmeticKernels.Op.SUB));
    m.put("Mul", ArithmeticKernels.factory(ArithmeticKernels.Op.MUL));
    m.put("Div", ArithmeticKernels.factory(ArithmeticKernels.Op.DIV));
    m.put("Pow", ArithmeticKernels.factory(ArithmeticKernels.Op.POW));
    m.put("Maximum", ArithmeticKernels.factory(ArithmeticKernels.Op.MAX));
    m.put("Minimum", ArithmeticKernels.factory(ArithmeticKernels.Op.MIN));
    m.put("Less", CompareKernels.factory(CompareKernels.Op.LT, false));
    m.put("LessEqual", CompareKernels.factory(CompareKernels.Op.LE, false));
    m.put("Greater", CompareKernels.factory(CompareKernels.Op.LT, true));
    m.put("GreaterEqual", CompareKernels.factory(CompareKernels.Op.LE, true));
    m.put("Equal", CompareKernels.factory(CompareKernels.Op.EQ, false));
    m.put("NotEqual", CompareKernels.factory(CompareKernels.Op.NE, false));
    m.put("LogicalAnd", CompareKernels.factory(CompareKernels.Op.AND, false));
    m.put("LogicalOr", CompareKernels.factory(CompareKernels.Op.OR, false));
    m.put("Select", SelectKernels.select());
    m.put("AddN", SelectKernels.addN());

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
    m.put("Gemm", MatMulKernels.gemm());
    return Map.copyOf(m);
  }

  /**
   * The factory for {@code opType}: a built-in kernel, else a registered {@link HostKernel}.
   *
   * @throws IllegalArgumentException if the op type has no CPU kernel
   */
  static KernelFactory factory(String opType) {
    KernelFactory f = BUILTIN.get(opType);
    if (f != null) {
      return f;
    }
    if (isDefinedElementwise(opType)) {
      // Composites and the primitives without a kernel of their own run as a Fused node of their expansion.
      return spec -> FusedKernel.factory().create(new KernelSpec(Elementwise.asFused(spec.op()), spec.inputs(),
          spec.outputs(), spec.inputSlots(), spec.outputSlots()));
    }
    HostKernel user = CpuKernels.find(opType).orElseThrow(
        () -> new IllegalArgumentException("no CPU kernel for op type '" + opType + "'"));
    return spec -> new HostKernelAdapter(spec, user);
  }

  /**
   * Op types the plan runs itself rather than through a kernel of this table: feeds, constants,
   * variables and their assigns, random sources (they need the Session's state) and NoOp.
   */
  static final Set<String> PLAN_EXECUTED = Set.of("Placeholder", "Const", "Variable", "Assign", "AssignAdd",
      "AssignSub", "RandomNormal", "RandomUniform", "NoOp");

  /**
   * Op types {@link FusedKernel} computes inside a Fused body: the elementwise ops its instructions
   * and generated loops implement, and the reductions that may end a body.
   */
  static final Set<String> FUSED = Set.of(
      "Neg", "Square", "Abs", "Sign", "Relu", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos",
      "Sigmoid", "Tanh", "LogicalNot", "ZerosLike", "OnesLike", "Cast",
      "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum",
      "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
      "Select", "AddN",
      "Sum", "Mean", "Max", "Min");

  /** Elementwise ops whose loops read each element before writing the same index. */
  private static final Set<String> IN_PLACE_ANY_INPUT = Set.of("Neg", "Square", "Abs", "Sign", "Relu", "Sqrt",
      "Rsqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos", "Sigmoid", "Tanh", "LogicalNot", "Cast", "Add", "Sub",
      "Mul", "Div", "Pow", "Maximum", "Minimum", "LogicalAnd", "LogicalOr", "Softmax", "LogSoftmax");

  /**
   * Whether a built-in kernel stays correct when its output slot holds the same array as input
   * {@code input} (for a memory planner that reuses a dead input's buffer). The planner must also check
   * that the input has exactly the output's dtype and shape; other op types never allow it.
   */
  static boolean allowsInPlace(String opType, int input) {
    return IN_PLACE_ANY_INPUT.contains(opType)
        || (opType.equals("Select") && input > 0)
        || (opType.equals("AddN") && input == 0)
        || (opType.equals("Gemm") && input == 2); // c, the accumulator BLAS updates in place
  }

  static boolean isBuiltin(String opType) {
    return BUILTIN.containsKey(opType) || isDefinedElementwise(opType);
  }

  /** An op type defined by an {@link ElementwiseOp}: the fused kernel computes every one of them. */
  static boolean isDefinedElementwise(String opType) {
    return OpRegistry.find(opType).orElse(null) instanceof ElementwiseOp;
  }

  /** The op types with a built-in kernel. */
  static Set<String> builtinTypes() {
    Set<String> types = new java.util.TreeSet<>(BUILTIN.keySet());
    OpRegistry.types().stream().filter(Kernels::isDefinedElementwise).forEach(types::add);
    return types;
  }
}
