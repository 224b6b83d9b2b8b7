package dev.kiln.cuda;

import java.util.Optional;
import jcuda.driver.JCudaDriver;

/**
 * Whether this JVM can use a CUDA device: jcuda's driver binding loads (it needs
 * {@code libcuda.so.1}, which comes with the NVIDIA driver), {@code cuInit} succeeds and there is at
 * least one device. Tests use {@link #reason()} in their assumptions, so they are reported as
 * skipped with the reason where there is no GPU.
 */
public final class CudaAvailable {
  private CudaAvailable() {}

  private static final class Probe {
    static final Optional<String> WHY_NOT = probe();

    private static Optional<String> probe() {
      if (CudaProperties.SYSTEM.disabled()) {
        return Optional.of("disabled by -Dkiln.cuda.disable=true");
      }
      try {
        JCudaDriver.setExceptionsEnabled(false);
        int r = JCudaDriver.cuInit(0);
        if (r != 0) {
          return Optional.of("cuInit failed: " + jcuda.driver.CUresult.stringFor(r));
        }
        int[] count = new int[1];
        r = JCudaDriver.cuDeviceGetCount(count);
        if (r != 0 || count[0] == 0) {
          return Optional.of("no CUDA device (cuDeviceGetCount: " + (r != 0 ? jcuda.driver.CUresult.stringFor(r) : "0") + ")");
        }
        return Optional.empty();
      } catch (UnsatisfiedLinkError e) {
        return Optional.of("no CUDA driver (" + linkFailure(String.valueOf(e.getMessage())) + ")");
      } catch (Throwable e) { // jcuda reports a failed native load as its own error types
        return Optional.of("no CUDA driver (" + e.getClass().getSimpleName() + ": " + firstLine(String.valueOf(e.getMessage())) + ")");
      }
    }
  }

  private static final java.util.regex.Pattern MISSING =
      java.util.regex.Pattern.compile("(lib[\\w.+-]+\\.so[.0-9]*): cannot open shared object file");

  /** "libcuda.so.1 not found" from jcuda's long load report, else its first line. */
  static String linkFailure(String message) {
    java.util.regex.Matcher m = MISSING.matcher(message);
    return m.find() ? m.group(1) + " not found" : firstLine(message);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** True when a CUDA device can be opened. */
  public static boolean isAvailable() {
    return Probe.WHY_NOT.isEmpty();
  }

  /** Why no device can be opened, e.g. "no CUDA driver (... libcuda.so.1 ...)"; "" when one can. */
  public static String reason() {
    return Probe.WHY_NOT.orElse("");
  }
}
