package dev.kiln.cuda;

import dev.kiln.runtime.spi.Device;
import dev.kiln.runtime.spi.DeviceProvider;
import java.util.Optional;

/** Finds GPU 0 through the CUDA driver API; listed in META-INF/services for ServiceLoader. */
public final class CudaDeviceProvider implements DeviceProvider {
  private volatile String reason = "";

  @Override
  public String kind() {
    return "CUDA";
  }

  @Override
  public Optional<Device> open() {
    if (!CudaAvailable.isAvailable()) {
      reason = CudaAvailable.reason();
      return Optional.empty();
    }
    try {
      return Optional.of(new CudaDevice(CudaContext.open(0)));
    } catch (RuntimeException e) {
      reason = e.getMessage();
      return Optional.empty();
    }
  }

  @Override
  public String unavailableReason() {
    return reason;
  }
}
