package dev.kiln.optimizer;

import dev.kiln.graph.OpRegistry;
import java.util.Set;

/** Kernel registries of made-up devices for the optimizer's tests (the optimizer has no kernels). */
final class TestKernels {
  private TestKernels() {}

  /** The op types the CPU runtime's fused kernels compute: what {@code fuse} fuses in the golden files. */
  static final Set<String> HOST_FUSIBLE = Set.of(
      "Neg", "Square", "Abs", "Sign", "Relu", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos",
      "Sigmoid", "Tanh", "LogicalNot", "ZerosLike", "OnesLike", "Cast",
      "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum",
      "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
      "Select", "AddN",
      "Sum", "Mean", "Max", "Min");

  /** A host with a kernel for every registered op type that fuses {@link #HOST_FUSIBLE}. */
  static KernelRegistry host() {
    return KernelRegistry.of(OpRegistry.types(), HOST_FUSIBLE);
  }
}
