package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Downcalls;
import dev.kiln.runtime.exec.RuntimeProperties;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.dnnl.engine;

/**
 * oneDNN's CPU engine, created once. oneDNN ships with Kiln (the JavaCPP preset) for Linux x86-64; where
 * it does not load, or {@code kiln.dnnl.disable} is set, {@link #AVAILABLE} is false and convolutions
 * and products run on Kiln's own kernels and BLAS.
 */
final class DnnlEngine {
  private DnnlEngine() {}

  private static final Logger LOG = Logger.getLogger(DnnlEngine.class.getName());

  /** Spins of an idle OpenMP thread before it sleeps: some tens of microseconds. */
  static final String SPIN_COUNT = "10000";

  /** The engine, or null when {@link #AVAILABLE} is false. */
  static final engine ENGINE = create();

  static final boolean AVAILABLE = ENGINE != null;

  private static engine create() {
    if (RuntimeProperties.SYSTEM.dnnlDisabled()) {
      return null;
    }
    shortOpenMpSpin();
    try {
      return new engine(engine.kind.cpu, 0);
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "oneDNN not available; convolutions and products use Kiln's own kernels and BLAS", e);
      return null;
    }
  }

  /**
   * oneDNN runs on OpenMP, whose idle threads spin for about a millisecond by default and would take
   * the cores from the kernels that follow a product or convolution on Kiln's own threads; threads that
   * sleep at once instead take longer to wake than a one-row product runs. A short spin keeps both; a
   * user's own OpenMP setting is kept. libgomp reads it when it loads, which is when oneDNN loads.
   */
  private static void shortOpenMpSpin() {
    if (System.getenv("OMP_WAIT_POLICY") != null || System.getenv("GOMP_SPINCOUNT") != null) {
      return;
    }
    try {
      if (Downcalls.setenv("GOMP_SPINCOUNT", SPIN_COUNT)) {
        return;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "setenv through java.lang.foreign failed; trying the systems preset", e);
    }
    try {
      org.bytedeco.systems.global.linux.setenv("GOMP_SPINCOUNT", SPIN_COUNT, 1);
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "could not set GOMP_SPINCOUNT; idle OpenMP threads spin for their default time", e);
    }
  }
}
