package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op and fused group of the catalog agrees with the CPU runtime on random inputs, within the
 * case's stated tolerance (f32: 1e-5 relative for elementwise ops, 1e-4 for reductions and Pow,
 * 1e-3 for matrix products; f64: 1e-12, 1e-11, 1e-10; integers, comparisons, casts, ArgMax, OneHot
 * exact). Random ops draw the CPU's stream, so they agree too. Needs a GPU; skipped without one.
 */
class CudaOpsTest {
  static Stream<OpCatalog.OpCase> cases() {
    return Stream.concat(OpCatalog.cases(DType.FLOAT32).stream(), OpCatalog.cases(DType.FLOAT64).stream());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void agreesWithTheCpu(OpCatalog.OpCase c) {
    GpuSupport.assumeGpu();
    Random rnd = new Random(c.label().hashCode());
    Map<Output, Tensor> feeds = new HashMap<>();
    for (Output in : c.inputs()) {
      feeds.put(in, GpuSupport.random(rnd, in.dtype(), in.shape(), c.positive()));
    }
    List<Output> fetches = c.node().outputs();
    List<Tensor> cpu;
    try (Session s = new Session(c.graph(), GpuSupport.CPU)) {
      cpu = s.run(feeds, c.reference().toArray(Output[]::new));
    }
    try (CudaSession s = new CudaSession(c.graph())) {
      List<Tensor> gpu = s.run(feeds, fetches, List.of());
      double tol = c.node().type().startsWith("Random") ? (c.node().outputType(0).dtype() == DType.FLOAT32 ? 1e-6 : 1e-12)
          : c.tolerance();
      for (int i = 0; i < fetches.size(); i++) {
        GpuSupport.assertClose(c.label() + " output " + i, cpu.get(i), gpu.get(i), tol);
      }
      // A second run of the cached plan gives the same (random ops: the next draw, as the CPU).
      if (!c.node().type().startsWith("Random")) {
        List<Tensor> again = s.run(feeds, fetches, List.of());
        for (int i = 0; i < fetches.size(); i++) {
          GpuSupport.assertClose(c.label() + " rerun output " + i, gpu.get(i), again.get(i), 0);
        }
      }
    }
  }
}
