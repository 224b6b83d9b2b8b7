package dev.kiln.optimizer;

import dev.kiln.graph.Operation;
import java.util.Objects;
import java.util.Set;

/**
 * The kernels one device has, as the optimizer asks about them: whether the device runs a node
 * ({@link Place}) and whether a node may join a {@code Fused} body there ({@link FuseElementwise}).
 * The optimizer knows no kernels itself: each runtime builds its device's registry where it registers
 * its kernels (the CPU runtime's {@code CpuKernels.registry()}, the CUDA runtime's code-generator
 * table), so that which op types a device runs is written once, next to the kernels.
 *
 * <p>Implementations are safe to call from several threads; a registry may grow (user kernels
 * registered later), and each answer reflects the registrations made before the call.
 */
public interface KernelRegistry {
  /**
   * The op types this device has a kernel for. A node of one of them may still be refused by
   * {@link #hasKernel} (a kernel for floating-point dtypes only, say).
   */
  Set<String> opTypes();

  /**
   * Whether this device runs {@code op}: its op type has a kernel here and the kernel takes the
   * node's dtypes, attributes and (for a {@code Fused} node) its whole body.
   */
  boolean hasKernel(Operation op);

  /**
   * Whether {@code op} may be a node of a {@code Fused} body this device runs: its fused kernels
   * compute the op's type (an elementwise op, or a reduction that ends a body). The fuser still
   * checks the node's traits and its place in the graph.
   */
  boolean canFuse(Operation op);

  /**
   * A registry with a kernel, for every node, of each type in {@code opTypes}, of which those in
   * {@code fusible} may join a Fused body: a device described by name sets, for tests and tools.
   *
   * @throws IllegalArgumentException if a fusible type has no kernel
   */
  static KernelRegistry of(Set<String> opTypes, Set<String> fusible) {
    Set<String> types = Set.copyOf(Objects.requireNonNull(opTypes, "opTypes"));
    Set<String> fused = Set.copyOf(Objects.requireNonNull(fusible, "fusible"));
    for (String t : fused) {
      if (!types.contains(t)) {
        throw new IllegalArgumentException("fusible op type '" + t + "' has no kernel in the registry");
      }
    }
    return new KernelRegistry() {
      @Override
      public Set<String> opTypes() {
        return types;
      }

      @Override
      public boolean hasKernel(Operation op) {
        return types.contains(op.type());
      }

      @Override
      public boolean canFuse(Operation op) {
        return fused.contains(op.type());
      }

      @Override
      public String toString() {
        return "KernelRegistry" + new java.util.TreeSet<>(types);
      }
    };
  }
}
