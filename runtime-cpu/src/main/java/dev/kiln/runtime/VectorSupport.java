package dev.kiln.runtime;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Whether the JDK's Vector API (module jdk.incubator.vector, added with
 * {@code --add-modules jdk.incubator.vector}) is available. Classes that use it ({@link VectorMath})
 * are only loaded when it is; without it the fused kernels run their transcendental functions as
 * scalar loops (several times slower), and this is logged once.
 */
final class VectorSupport {
  private VectorSupport() {}

  static final boolean AVAILABLE = detect();

  private static boolean detect() {
    boolean present = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
        && !RuntimeProperties.SYSTEM.vectorDisabled();
    if (!present) {
      Logger.getLogger(VectorSupport.class.getName()).log(Level.INFO,
          "jdk.incubator.vector is not available (run the JVM with --add-modules jdk.incubator.vector): "
              + "fused kernels compute exp, tanh and sigmoid with scalar loops");
    }
    return present;
  }
}
