package dev.kiln.runtime.blas;

import dev.kiln.runtime.exec.RuntimeProperties;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Which BLAS library the products go to, decided without loading it (Parallel needs the answer too):
 * {@code -Dkiln.blas=mkl|openblas|auto}, auto meaning MKL on an Intel CPU when MKL is on the class
 * path (the optional runtime-cpu-mkl artifact puts it there), OpenBLAS otherwise. Copying calls
 * ({@code -Dkiln.blas.copying=true}) are OpenBLAS's.
 */
public final class BlasChoice {
  private BlasChoice() {}

  private static final Logger LOG = Logger.getLogger(BlasChoice.class.getName());

  /** The class of the MKL preset; its presence on the class path means MKL can be loaded. */
  static final String MKL_CLASS = "org.bytedeco.mkl.global.mkl_rt";

  /** The outcome of {@link #decide}: whether to load MKL, and what to tell the user about it. */
  public record Decision(boolean mkl, Optional<String> warning) {
    public static Decision of(boolean mkl) {
      return new Decision(mkl, Optional.empty());
    }
  }

  /** True when Blas should load MKL (it falls back to OpenBLAS if MKL does not load). */
  public static final boolean MKL;

  static {
    Decision d = decide(RuntimeProperties.SYSTEM.blas(), mklOnClassPath(BlasChoice.class.getClassLoader()),
        cpuInfo("vendor_id"), RuntimeProperties.SYSTEM.blasCopying());
    if (d.warning().isPresent()) {
      LOG.warning(d.warning().get());
    }
    MKL = d.mkl();
  }

  /**
   * The library for a {@code -Dkiln.blas} value, given whether MKL's classes are on the class path, the
   * CPU's vendor_id and {@code -Dkiln.blas.copying}. A value it does not know is warned about and read as auto.
   */
  public static Decision decide(String property, boolean mklPresent, String vendor, boolean copying) {
    String choice = property.trim().toLowerCase(Locale.ROOT);
    return switch (choice) {
      case "openblas" -> Decision.of(false);
      case "mkl" -> !mklPresent
          ? new Decision(false, Optional.of("-Dkiln.blas=mkl, but MKL is not on the class path (add the"
              + " dev.kiln:runtime-cpu-mkl dependency, type pom); products use OpenBLAS"))
          : Decision.of(!copying);
      case "auto" -> Decision.of(mklPresent && vendor.equals("GenuineIntel") && !copying);
      default -> new Decision(decide("auto", mklPresent, vendor, copying).mkl(),
          Optional.of("-Dkiln.blas=" + property + ": expected mkl, openblas or auto; using auto"));
    };
  }

  /** Whether MKL's preset classes can be found through this loader (nothing is loaded or initialized). */
  public static boolean mklOnClassPath(ClassLoader loader) {
    try {
      Class.forName(MKL_CLASS, false, loader);
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** The first /proc/cpuinfo line of this key, its value trimmed; "" when absent or unreadable. */
  static String cpuInfo(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
          return line.substring(colon + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.FINE, "cannot read /proc/cpuinfo", e);
    }
    return "";
  }

  /** The CPU's feature flags (/proc/cpuinfo "flags": avx2, avx512f, ...); empty when unknown. */
  static Set<String> cpuFlags() {
    return Arrays.stream(cpuInfo("flags").split("\\s+")).filter(f -> !f.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }
}
