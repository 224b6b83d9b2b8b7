package dev.kiln.runtime.kernels;

import dev.kiln.runtime.CpuKernels;

import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.optimizer.KernelRegistry;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * The host's {@link KernelRegistry}: the built-in kernel table ({@link Kernels}), the ops the plan
 * runs itself ({@link Kernels#PLAN_EXECUTED}) or aliases (views), and the kernels users registered
 * with {@link CpuKernels#register}, each seen from the moment it is registered. What fuses is what
 * the fused kernel computes ({@link Kernels#fuses}): never a user op.
 */
public final class CpuKernelRegistry implements KernelRegistry {
  public static final CpuKernelRegistry INSTANCE = new CpuKernelRegistry();

  private CpuKernelRegistry() {}

  @Override
  public Set<String> opTypes() {
    Set<String> types = new TreeSet<>(Kernels.builtinTypes());
    types.addAll(Kernels.PLAN_EXECUTED);
    types.addAll(CpuKernels.userTypes());
    for (String t : OpRegistry.types()) {
      if (OpRegistry.get(t).traits().contains(OpTrait.VIEW)) {
        types.add(t);
      }
    }
    return Collections.unmodifiableSet(types);
  }

  @Override
  public boolean hasKernel(Operation op) {
    String t = op.type();
    return Kernels.isBuiltin(t) || Kernels.PLAN_EXECUTED.contains(t) || op.def().traits().contains(OpTrait.VIEW)
        || CpuKernels.find(t).isPresent();
  }

  @Override
  public boolean canFuse(Operation op) {
    // A Fused body computes in its nodes' own dtypes: a narrow one runs unfused, through its compute type.
    return Kernels.fuses(op.type()) && !NarrowTypes.involves(op);
  }

  @Override
  public String toString() {
    return "CPU kernels";
  }
}
