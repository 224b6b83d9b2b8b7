package dev.kiln.runtime.kernels;

import dev.kiln.runtime.SessionOptions;

import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.SessionOptions.FusedKernelOptions;
import java.util.List;

/**
 * What a kernel factory is told when a plan is compiled: the node, the concrete (fully defined) types
 * of its inputs and outputs for this plan, the frame slots that hold them, and the Session's settings
 * for fused kernels.
 */
public record KernelSpec(Operation op, List<TensorType> inputs, List<TensorType> outputs, int[] inputSlots,
    int[] outputSlots, FusedKernelOptions fused) {
  /** A spec with the default fused-kernel settings. */
  public KernelSpec(Operation op, List<TensorType> inputs, List<TensorType> outputs, int[] inputSlots,
      int[] outputSlots) {
    this(op, inputs, outputs, inputSlots, outputSlots, FusedKernelOptions.defaults());
  }
}
