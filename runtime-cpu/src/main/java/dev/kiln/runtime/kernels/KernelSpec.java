package dev.kiln.runtime.kernels;

import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.List;

/**
 * What a kernel factory is told when a plan is compiled: the node, the concrete (fully defined) types
 * of its inputs and outputs for this plan, and the frame slots that hold them.
 */
public record KernelSpec(Operation op, List<TensorType> inputs, List<TensorType> outputs, int[] inputSlots,
    int[] outputSlots) {}
