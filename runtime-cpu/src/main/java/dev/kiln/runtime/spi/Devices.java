package dev.kiln.runtime.spi;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The accelerator this JVM runs on, looked up once through {@link ServiceLoader}. With no provider on
 * the class path there is nothing to say; with a provider but no usable device the lookup logs once,
 * at INFO, "no CUDA device: running on CPU (reason)", and never fails.
 */
public final class Devices {
  private static final Logger LOG = System.getLogger("dev.kiln.runtime");

  private Devices() {}

  private static final class Holder {
    static final Optional<Device> DEVICE = discover(ServiceLoader.load(DeviceProvider.class, Devices.class.getClassLoader()),
        line -> LOG.log(Level.INFO, line));
  }

  /** The first device a provider opens, or empty; the same answer for the whole JVM. */
  public static Optional<Device> discovered() {
    return Holder.DEVICE;
  }

  /** Asks each provider in turn and logs, through {@code log}, each that has no device. */
  public static Optional<Device> discover(Iterable<DeviceProvider> providers, java.util.function.Consumer<String> log) {
    try {
      for (DeviceProvider p : providers) {
        Optional<Device> d;
        try {
          d = p.open();
        } catch (RuntimeException | LinkageError e) {
          log.accept("no " + p.kind() + " device: running on CPU (" + e + ")");
          continue;
        }
        if (d.isPresent()) {
          log.accept(p.kind() + " device: " + d.get().description());
          return d;
        }
        log.accept("no " + p.kind() + " device: running on CPU (" + p.unavailableReason() + ")");
      }
    } catch (ServiceConfigurationError e) {
      log.accept("no accelerator: running on CPU (" + e.getMessage() + ")");
    }
    return Optional.empty();
  }
}
