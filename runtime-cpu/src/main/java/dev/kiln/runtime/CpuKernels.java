package dev.kiln.runtime;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where user-defined op types get their CPU kernels. Built-in op types cannot be overridden;
 * registering a kernel for a user type again replaces it (for plans compiled afterwards).
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

  static Optional<HostKernel> find(String opType) {
    return Optional.ofNullable(USER.get(opType));
  }
}
