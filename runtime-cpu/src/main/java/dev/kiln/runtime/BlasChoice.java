package dev.kiln.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Which BLAS library the products go to, decided without loading it (Parallel needs the answer too):
 * {@code -Dkiln.blas=mkl|openblas|auto}, auto meaning MKL on an Intel CPU. Copying calls
 * ({@code -Dkiln.blas.copying=true}) are OpenBLAS's.
 */
final class BlasChoice {
  private BlasChoice() {}

  private static final Logger LOG = Logger.getLogger(BlasChoice.class.getName());

  /** True when Blas should load MKL (it falls back to OpenBLAS if MKL does not load). */
  static final boolean MKL = wantMkl();

  private static boolean wantMkl() {
    String choice = System.getProperty("kiln.blas", "auto").toLowerCase(Locale.ROOT);
    boolean mkl = switch (choice) {
      case "mkl" -> true;
      case "openblas" -> false;
      case "auto" -> cpuInfo("vendor_id").equals("GenuineIntel");
      default -> throw new IllegalArgumentException("-Dkiln.blas=" + choice + ": expected mkl, openblas or auto");
    };
    return mkl && !Boolean.getBoolean("kiln.blas.copying");
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
}
