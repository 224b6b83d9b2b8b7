package dev.kiln.runtime;

import dev.kiln.runtime.exec.ConcreteTypes;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;
import dev.kiln.runtime.kernels.RandomStream;

import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.spi.HostRuntime;
import dev.kiln.runtime.spi.HostStep;
import java.util.List;

/**
 * The CPU runtime's {@link HostRuntime}, a service listed in
 * {@code META-INF/services/dev.kiln.runtime.spi.HostRuntime}. Not for users: device runtimes reach it
 * as {@link HostRuntime#cpu()} (it is public only so that {@link java.util.ServiceLoader} can make it).
 */
public final class CpuHostRuntime implements HostRuntime {
  public CpuHostRuntime() {}

  @Override
  public List<TensorType> concreteTypes(Operation op, List<TensorType> inputs) {
    return ConcreteTypes.infer(op, inputs);
  }

  @Override
  public HostStep kernel(Operation op, List<TensorType> inputs, List<TensorType> outputs, int[] inputSlots,
      int[] outputSlots) {
    Kernel k = Kernels.create(new KernelSpec(op, inputs, outputs, inputSlots, outputSlots));
    return k::run;
  }

  @Override
  public double uniform(long seed, long counter) {
    return RandomStream.uniform(seed, counter);
  }

  @Override
  public double normal(long seed, long counter) {
    return RandomStream.normal(seed, counter);
  }
}
