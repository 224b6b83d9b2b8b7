package dev.kiln.runtime.spi;

import java.util.ServiceLoader;

/** Finds the {@link HostRuntime} through {@link ServiceLoader}, once. */
final class HostRuntimes {
  private HostRuntimes() {}

  private static final class Holder {
    static final HostRuntime CPU = ServiceLoader.load(HostRuntime.class, HostRuntime.class.getClassLoader())
        .findFirst().orElse(null);
  }

  static HostRuntime cpu() {
    if (Holder.CPU == null) {
      throw new IllegalStateException("no " + HostRuntime.class.getName()
          + " service: the CPU runtime's META-INF/services entry is missing from the class path");
    }
    return Holder.CPU;
  }
}
