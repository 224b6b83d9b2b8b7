package dev.kiln.runtime;

import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the CUDA runtime borrows from the CPU runtime's package-private internals: concrete type
 * inference, the CPU kernel of a node (for nodes placed on the host) and the random stream's
 * formulas. It lives in runtime-cuda under the CPU runtime's package (a class-path split package), so
 * the CPU runtime's public surface stays as it is.
 */
public final class CudaBridge {
  private CudaBridge() {}

  /** A node's output types for concrete input types (the node's own inference and messages). */
  public static List<TensorType> concreteTypes(Operation op, List<TensorType> inputs) {
    return ConcreteTypes.infer(op, inputs);
  }

  /** The CPU kernel of {@code op} bound to frame slots; fails clearly for an op with no CPU kernel. */
  public static Consumer<Object[]> hostKernel(Operation op, List<TensorType> inputs, List<TensorType> outputs,
      int[] inputSlots, int[] outputSlots) {
    Kernel k = Kernels.factory(op.type()).create(new KernelSpec(op, inputs, outputs, inputSlots, outputSlots));
    return k::run;
  }

  public static double uniform(long seed, long i) {
    return RandomStream.uniform(seed, i);
  }

  public static double normal(long seed, long i) {
    return RandomStream.normal(seed, i);
  }
}
