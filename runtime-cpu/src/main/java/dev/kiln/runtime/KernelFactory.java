package dev.kiln.runtime;

/** Makes the kernel of one op type for one plan. */
@FunctionalInterface
interface KernelFactory {
  Kernel create(KernelSpec spec);
}
