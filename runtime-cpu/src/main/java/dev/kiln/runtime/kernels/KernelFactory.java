package dev.kiln.runtime.kernels;

/** Makes the kernel of one op type for one plan. */
@FunctionalInterface
public interface KernelFactory {
  Kernel create(KernelSpec spec);
}
