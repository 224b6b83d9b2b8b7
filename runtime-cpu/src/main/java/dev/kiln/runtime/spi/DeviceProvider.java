package dev.kiln.runtime.spi;

import java.util.Optional;

/**
 * Finds an accelerator (found through {@link java.util.ServiceLoader}: a runtime module lists its
 * implementation in {@code META-INF/services/dev.kiln.runtime.spi.DeviceProvider}). Opening never
 * throws for a missing device or driver: it returns empty and says why in {@link #unavailableReason()}.
 */
public interface DeviceProvider {
  /** The kind of device, as the log words it: {@code CUDA}. */
  String kind();

  /** The device, or empty when there is none (no driver, no GPU, libraries missing). */
  Optional<Device> open();

  /** Why the last {@link #open()} returned empty, e.g. "libcuda.so.1 not found". */
  String unavailableReason();
}
