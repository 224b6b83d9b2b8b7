package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Downcalls;
import dev.kiln.runtime.exec.RuntimeProperties;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bytedeco.dnnl.engine;

/**
 * oneDNN's CPU engine, created once. oneDNN ships with Kiln (the JavaCPP preset) for Linux x86-64; where
 * it does not load, or {@code kiln.dnnl.disable} is set, {@link #AVAILABLE} is false and convolutions
 * run on Kiln's own kernels.
 */
final class DnnlEngine {
  private DnnlEngine() {}

  private static final Logger LOG = Logger.getLogger(DnnlEngine.class.getName());

  /** The engine, or null when {@link #AVAILABLE} is false. */
  static final engine ENGINE = create();

  static final boolean AVAILABLE = ENGINE != null;

  private static engine create() {
    if (RuntimeProperties.SYSTEM.dnnlDisabled()) {
      return null;
    }
    passiveOpenMpThreads();
    try {
      return new engine(engine.kind.cpu, 0);
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "oneDNN not available; convolutions use Kiln's own kernels", e);
      return null;
    }
  }

  /**
   * oneDNN runs on OpenMP, whose idle threads spin by default and would take the cores from the kernels
   * that follow a convolution on Kiln's own threads. Passive threads sleep at once; a user's own
   * OpenMP setting is kept. libgomp reads it when it loads, which is when oneDNN loads, just after this.
   */
  private static void passiveOpenMpThreads() {
    if (System.getenv("OMP_WAIT_POLICY") != null || System.getenv("GOMP_SPINCOUNT") != null) {
      return;
    }
    try {
      if (Downcalls.setenv("OMP_WAIT_POLICY", "PASSIVE")) {
        return;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "setenv through java.lang.foreign failed; trying the systems preset", e);
    }
    try {
      org.bytedeco.systems.global.linux.setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    } catch (RuntimeException | LinkageError e) {
      LOG.log(Level.FINE, "could not set OMP_WAIT_POLICY; OpenMP threads spin when idle", e);
    }
  }
}
