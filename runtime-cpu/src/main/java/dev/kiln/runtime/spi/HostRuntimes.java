package dev.kiln.runtime.spi;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/** Finds the {@link HostRuntime} through {@link ServiceLoader} on first use. */
final class HostRuntimes {
  private HostRuntimes() {}

  // Stateless implementations: two threads racing on the first lookup may each load one, harmlessly.
  private static volatile HostRuntime cpu;

  static HostRuntime cpu() {
    HostRuntime h = cpu;
    if (h == null) {
      try {
        h = ServiceLoader.load(HostRuntime.class, HostRuntime.class.getClassLoader()).findFirst()
            .orElseThrow(() -> new IllegalStateException("no " + HostRuntime.class.getName()
                + " service: the CPU runtime's META-INF/services entry is missing from the class path"));
      } catch (ServiceConfigurationError e) {
        throw new IllegalStateException("the " + HostRuntime.class.getName() + " service cannot be loaded: "
            + e.getMessage(), e);
      }
      cpu = h;
    }
    return h;
  }
}
