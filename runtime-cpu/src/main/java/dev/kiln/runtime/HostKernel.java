package dev.kiln.runtime;

import dev.kiln.graph.Attrs;
import dev.kiln.graph.Tensor;
import java.util.List;

/**
 * A CPU kernel written in plain Java for a user-defined op type; register it with
 * {@link CpuKernels#register}. It gets the node's input values and attributes and returns one tensor
 * per output, of exactly the types the op's inference gave. Input tensors are only valid during the
 * call (their storage is the runtime's and is reused afterwards): do not keep them. Allocating is
 * allowed. Sessions may run concurrently, so a kernel must be safe to call from several threads.
 */
@FunctionalInterface
public interface HostKernel {
  List<Tensor> compute(List<Tensor> inputs, Attrs attrs);
}
