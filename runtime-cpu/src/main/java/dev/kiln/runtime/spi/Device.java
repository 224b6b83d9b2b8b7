package dev.kiln.runtime.spi;

import dev.kiln.graph.Graph;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.KernelRegistry;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.SessionOptions;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** An opened accelerator: its description and the kernels it has. */
public interface Device extends AutoCloseable {
  DeviceDescription description();

  /** The nodes this device has kernels for, and which may fuse; placement asks this. */
  KernelRegistry kernels();

  /**
   * Opens the executor a {@code Session} of {@code graph} delegates its runs to, or empty when this
   * device runs no Sessions (the Session then runs on the CPU). {@code optimizer} is the Session's
   * graph optimizer (its options applied); the device runs it on each run's program before placing it.
   */
  default Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer) {
    return Optional.empty();
  }

  /**
   * {@link #openSession(Graph, UnaryOperator)} for a Session of these options (what {@code Session}
   * calls); a device that honours per-Session options such as {@link SessionOptions#graphReplay()}
   * overrides this one.
   */
  default Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer, SessionOptions options) {
    return openSession(graph, optimizer);
  }

  /** Frees the device's resources; the device is unusable after. */
  @Override
  void close();
}
