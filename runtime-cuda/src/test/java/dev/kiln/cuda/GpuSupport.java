package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.SessionOptions;
import java.util.Random;

/** GPU test helpers: the skip assumption, random inputs, and comparison with the CPU result. */
final class GpuSupport {
  private GpuSupport() {}

  /** The CPU reference: a Session that runs on the CPU even where a GPU was discovered. */
  static final SessionOptions CPU = SessionOptions.builder().device("/cpu:0").build();

  /** Skips (reported as skipped, with the reason) where there is no CUDA device. */
  static void assumeGpu() {
    assumeTrue(CudaAvailable.isAvailable(), () -> "no CUDA device: " + CudaAvailable.reason());
  }

  static Tensor random(Random rnd, DType d, Shape s, boolean positive) {
    int n = (int) s.numElements();
    Object a = HostBuffers.allocate(d, n);
    for (int i = 0; i < n; i++) {
      double u = positive ? 0.5 + 1.5 * rnd.nextDouble() : -2 + 4 * rnd.nextDouble();
      switch (a) {
        case float[] f -> f[i] = (float) u;
        case double[] x -> x[i] = u;
        case int[] x -> x[i] = positive ? 1 + rnd.nextInt(5) : rnd.nextInt(13) - 1;
        case long[] x -> x[i] = positive ? 1 + rnd.nextInt(5) : rnd.nextInt(13) - 1;
        case boolean[] x -> x[i] = rnd.nextBoolean();
        default -> throw new IllegalStateException();
      }
    }
    return HostBuffers.adopt(d, s, a);
  }

  /** |gpu - cpu| <= tol * max(1, |cpu|) elementwise (NaN matches NaN); exact for integers and bools. */
  static void assertClose(String what, Tensor cpu, Tensor gpu, double tol) {
    assertEquals(cpu.type(), gpu.type(), what + ": type");
    Object c = HostBuffers.array(cpu);
    Object g = HostBuffers.array(gpu);
    int n = (int) cpu.type().shape().numElements();
    for (int i = 0; i < n; i++) {
      double cv = value(c, i);
      double gv = value(g, i);
      if (Double.isNaN(cv) && Double.isNaN(gv)) {
        continue;
      }
      if (!(Math.abs(gv - cv) <= tol * Math.max(1, Math.abs(cv)))) {
        fail(what + ": element " + i + " is " + gv + " on the GPU, " + cv + " on the CPU (tolerance " + tol + ")");
      }
    }
    assertTrue(n >= 0);
  }

  static double value(Object a, int i) {
    return switch (a) {
      case float[] f -> f[i];
      case double[] x -> x[i];
      case int[] x -> x[i];
      case long[] x -> x[i];
      case boolean[] x -> x[i] ? 1 : 0;
      default -> throw new IllegalStateException();
    };
  }
}
