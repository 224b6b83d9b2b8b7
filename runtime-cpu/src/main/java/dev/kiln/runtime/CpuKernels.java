package dev.kiln.runtime;

import dev.kiln.runtime.kernels.CpuKernelRegistry;
import dev.kiln.runtime.kernels.Kernels;

import dev.kiln.optimizer.KernelRegistry;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where user-defined op types get their CPU kernels. Built-in op types cannot be overridden;
 * registering a kernel for a user type again replaces it (for plans compiled afterwards). The host's
 * kernels, built-in and registered, are what {@link #registry()} answers for.
 */
public final class CpuKernels {
  private static final ConcurrentHashMap<String, HostKernel> USER = new ConcurrentHashMap<>();

  private CpuKernels() {}

  /** Gives op type {@code opType} a CPU kernel written in Java. */
  public static void register(String opType, HostKernel kernel) {
    Objects.requireNonNull(opType, "opType");
    Objects.requireNonNull(kernel, "kernel");
    if (Kernels.isBuiltin(opType)) {
      throw new IllegalArgumentException("op type '" + opType + "' has a built-in CPU kernel, which cannot be replaced");
    }
    USER.put(opType, kernel);
  }

  /**
   * The CPU's kernel registry, as the optimizer asks it (fusion, and placement's host side): the
   * built-in kernels and every kernel registered here, including those registered after this call.
   * A registered op type has a kernel but never fuses (no fused kernel computes it).
   */
  public static KernelRegistry registry() {
    return CpuKernelRegistry.INSTANCE;
  }

  /** The op types users registered kernels for. */
  public static Set<String> userTypes() {
    return Set.copyOf(USER.keySet());
  }

  public static Optional<HostKernel> find(String opType) {
    return Optional.ofNullable(USER.get(opType));
  }
}
