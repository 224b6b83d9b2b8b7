package dev.kiln.optimizer;

import java.util.Objects;

/**
 * What placement needs to know of a device, without touching it: its Kiln name ({@code /gpu:0}),
 * its model name, its memory and its compute capability (for CUDA; 0.0 for the CPU). Placement is
 * tested on descriptions such as {@link #fakeGpu()}, so it needs no GPU.
 */
public record DeviceDescription(String name, String model, long memoryBytes, int ccMajor, int ccMinor) {
  public DeviceDescription {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(model, "model");
    if (!name.matches("/(cpu|gpu):\\d+")) {
      throw new IllegalArgumentException("invalid device '" + name + "' (expected /cpu:N or /gpu:N)");
    }
    if (memoryBytes < 0) {
      throw new IllegalArgumentException("device " + name + ": negative memory " + memoryBytes);
    }
  }

  /** The host, where every op type has a kernel. */
  public static final DeviceDescription CPU = new DeviceDescription("/cpu:0", "host", 0, 0, 0);

  /** A made-up GPU for tests of placement: 16 GiB, compute capability 9.0. */
  public static DeviceDescription fakeGpu() {
    return new DeviceDescription("/gpu:0", "fake gpu", 16L << 30, 9, 0);
  }

  public boolean isGpu() {
    return name.startsWith("/gpu:");
  }

  /** "sm_90"-style architecture name of a GPU. */
  public String arch() {
    return "sm_" + ccMajor + ccMinor;
  }

  @Override
  public String toString() {
    return name + " (" + model + ", " + (memoryBytes >> 20) + " MiB" + (isGpu() ? ", cc " + ccMajor + "." + ccMinor : "") + ")";
  }
}
