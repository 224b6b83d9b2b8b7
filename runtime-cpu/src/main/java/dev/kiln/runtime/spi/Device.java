package dev.kiln.runtime.spi;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.Program;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** An opened accelerator: its description and which nodes it has kernels for. */
public interface Device extends AutoCloseable {
  DeviceDescription description();

  /** Whether this device has a kernel for {@code op} (with its dtypes); placement asks this. */
  boolean hasKernel(Operation op);

  /**
   * Opens the executor a {@code Session} of {@code graph} delegates its runs to, or empty when this
   * device runs no Sessions (the Session then runs on the CPU). {@code optimizer} is the Session's
   * graph optimizer (its options applied); the device runs it on each run's program before placing it.
   */
  default Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer) {
    return Optional.empty();
  }

  /** Frees the device's resources; the device is unusable after. */
  @Override
  void close();
}
