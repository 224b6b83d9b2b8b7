package dev.kiln.runtime.spi;

import dev.kiln.graph.Operation;
import dev.kiln.optimizer.DeviceDescription;

/** An opened accelerator: its description and which nodes it has kernels for. */
public interface Device extends AutoCloseable {
  DeviceDescription description();

  /** Whether this device has a kernel for {@code op} (with its dtypes); placement asks this. */
  boolean hasKernel(Operation op);

  /** Frees the device's resources; the device is unusable after. */
  @Override
  void close();
}
