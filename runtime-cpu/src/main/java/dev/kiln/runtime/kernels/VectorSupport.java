package dev.kiln.runtime.kernels;

import dev.kiln.runtime.exec.RuntimeProperties;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Whether the JDK's Vector API (module jdk.incubator.vector, added with
 * {@code --add-modules jdk.incubator.vector}) is available. Classes that use it ({@link VectorMath},
 * {@link VectorArithmetic}, ...) are only loaded when it is; without it the kernels run plain loops
 * that C2 vectorizes itself ({@link ScalarMath}, {@link ScalarArithmetic}: the same results, a fused
 * elementwise chain about 2-3 times slower), and this is logged once.
 */
public final class VectorSupport {
  private VectorSupport() {}

  public static final boolean AVAILABLE = detect();

  private static boolean detect() {
    boolean present = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
        && !RuntimeProperties.SYSTEM.vectorDisabled();
    if (!present) {
      Logger.getLogger(VectorSupport.class.getName()).log(Level.INFO,
          "jdk.incubator.vector is not available (run the JVM with --add-modules jdk.incubator.vector): "
              + "kernels use plain loops instead of the Vector API (the same results; fused elementwise "
              + "chains about 2-3 times slower)");
    }
    return present;
  }
}
