package dev.kiln.cuda;

import java.util.Locale;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * The CUDA runtime's {@code kiln.cuda.*} system properties, read once and in this class only (a test
 * keeps it so): which native libraries to use, for machines where the defaults cannot work or to
 * compare the paths. Per-Session choices are {@code SessionOptions}' ({@code kiln.cuda.graphs} is
 * the default of {@code SessionOptions.graphReplay()}). docs/configuration.md lists them all.
 *
 * @param disabled {@code kiln.cuda.disable}: act as if there were no CUDA device
 * @param noCublas {@code kiln.cuda.noCublas}: products use the generated GEMM kernel, never cuBLAS
 * @param noFfm {@code kiln.cuda.noFfm}: skip cuBLAS through java.lang.foreign (try jcublas first)
 * @param noNvrtc {@code kiln.cuda.noNvrtc}: compile kernels with nvcc, never NVRTC
 * @param cublas {@code kiln.cuda.cublas}: the cuBLAS library file to load, instead of searching the
 *     loader path and the CUDA install
 */
record CudaProperties(boolean disabled, boolean noCublas, boolean noFfm, boolean noNvrtc, Optional<String> cublas) {
  private static final Logger LOG = Logger.getLogger(CudaProperties.class.getName());

  /** The values of this JVM's system properties. */
  static final CudaProperties SYSTEM = read(System::getProperty);

  /** The values {@code property} (a name to its value, null when unset) gives, defaults for the rest. */
  static CudaProperties read(UnaryOperator<String> property) {
    return new CudaProperties(
        flag(property, "kiln.cuda.disable"),
        flag(property, "kiln.cuda.noCublas"),
        flag(property, "kiln.cuda.noFfm"),
        flag(property, "kiln.cuda.noNvrtc"),
        Optional.ofNullable(property.apply("kiln.cuda.cublas")).map(String::trim).filter(s -> !s.isEmpty()));
  }

  /** A flag that is off unless set to true; another value is warned about and leaves it off. */
  private static boolean flag(UnaryOperator<String> property, String name) {
    String v = property.apply(name);
    if (v == null) {
      return false;
    }
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> {
        LOG.warning("-D" + name + "=" + v + ": expected true or false; using false");
        yield false;
      }
    };
  }
}
