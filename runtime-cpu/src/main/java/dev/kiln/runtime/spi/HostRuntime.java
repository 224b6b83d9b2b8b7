package dev.kiln.runtime.spi;

import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.List;

/**
 * What the CPU runtime lends a device runtime, so that a device shares the host's rules instead of
 * copying them: a node's output types for the concrete input types of one plan, the CPU kernel of a
 * node placed on the host, and the random streams that every device must draw alike. The CPU
 * runtime provides it as a service ({@code META-INF/services/dev.kiln.runtime.spi.HostRuntime});
 * {@link #cpu()} finds it.
 */
public interface HostRuntime {
  /**
   * The CPU runtime's implementation, looked up once.
   *
   * @throws IllegalStateException if no implementation is on the class path
   */
  static HostRuntime cpu() {
    return HostRuntimes.cpu();
  }

  /**
   * The output types of {@code op} when its inputs have the concrete types {@code inputs} (the op's
   * own inference, with its messages naming the node).
   *
   * @throws IllegalArgumentException if the inputs do not fit the op, or an output type is not fully
   *     defined
   */
  List<TensorType> concreteTypes(Operation op, List<TensorType> inputs);

  /**
   * The CPU kernel of {@code op} for the concrete types {@code inputs} and {@code outputs}, reading
   * input {@code i} from frame slot {@code inputSlots[i]} and writing output {@code j} to slot
   * {@code outputSlots[j]}. Every shape check happens here, not when the step runs.
   *
   * @throws IllegalArgumentException if the host has no kernel for the op type, or the kernel
   *     refuses the node (each message names the op type and node)
   */
  HostStep kernel(Operation op, List<TensorType> inputs, List<TensorType> outputs, int[] inputSlots, int[] outputSlots);

  /** Draw number {@code counter} of the RandomUniform stream of {@code seed}: a double in [0, 1). */
  double uniform(long seed, long counter);

  /** Draw number {@code counter} of the RandomNormal stream of {@code seed}: a standard normal double. */
  double normal(long seed, long counter);
}
