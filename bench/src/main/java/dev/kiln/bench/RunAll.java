package dev.kiln.bench;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.util.Statistics;

/**
 * Runs every benchmark (or those matching the regex in args[0]) and prints medians, then the same
 * figures as {@code RESULT<TAB>workload<TAB>implementation<TAB>median<TAB>unit<TAB>notes} lines,
 * the format of ../shared/anchors (merge with its side_by_side.py). Before timing it computes the
 * workloads' checksums (W1 loss at steps 0 and 499, W3 sum, W4 y[0]) to compare with the anchors.
 */
public final class RunAll {
  private RunAll() {}

  public static void main(String[] args) throws Exception {
    String include = args.length > 0 ? args[0] : "dev\\.kiln\\.bench\\..*";
    // The forks inherit this environment and these flags, so they use the same library and kernels.
    String blas = blasDescription();
    System.out.println("BLAS: " + blas + (blas.contains("from the environment")
        ? "; `env -u OPENBLAS_CORETYPE bench/run.sh` lets Kiln choose the kernels" : ""));
    Map<String, String> checks;
    try {
      checks = checksums(include);
    } catch (RuntimeException e) {
      System.out.println("checksums failed: " + e);
      checks = Map.of();
    }
    // The benchmarks without the Vector API fork with the JVM arguments less the module.
    String noVector = ".*NoVectorFlag.*";
    List<String> jvmArgs = benchJvmArgs();
    List<String> withoutModule = jvmArgs.stream().filter(a -> !a.contains("jdk.incubator.vector")
        && !a.equals("--add-modules")).toList();
    ChainedOptionsBuilder opts = new OptionsBuilder().include(include).exclude(noVector);
    if (!jvmArgs.isEmpty()) {
      opts.jvmArgsAppend(jvmArgs.toArray(String[]::new));
    }
    List<RunResult> results = new ArrayList<>();
    try {
      results.addAll(new Runner(opts.build()).run());
    } catch (NoBenchmarksException e) {
      if (!matches(include, "W3NoVectorFlag")) {
        throw e; // else the pattern selects only the benchmarks run without the module, below
      }
    }
    if (matches(include, "W3NoVectorFlag")) {
      ChainedOptionsBuilder plain = new OptionsBuilder().include(noVector);
      if (!withoutModule.isEmpty()) {
        plain.jvmArgsAppend(withoutModule.toArray(String[]::new));
      }
      results.addAll(new Runner(plain.build()).run());
    }

    List<String> lines = new ArrayList<>();
    System.out.println();
    System.out.println("== Kiln benchmark medians ==");
    for (RunResult r : results) {
      String bench = r.getParams().getBenchmark();
      String method = bench.substring(bench.lastIndexOf('.') + 1);
      String cls = bench.substring(0, bench.lastIndexOf('.'));
      cls = cls.substring(cls.lastIndexOf('.') + 1);
      Statistics st = r.getPrimaryResult().getStatistics();
      double med = st.getPercentile(50);
      double min = st.getMin();
      String unit = r.getPrimaryResult().getScoreUnit();
      String shape = r.getParams().getParam("shape");
      String pipeline = r.getParams().getParam("pipeline");
      String kiln = "off".equals(pipeline) ? "kiln-nopipeline" : "kiln";
      String graph = r.getParams().getParam("graph");
      String label = shape != null ? "[" + shape + "]"
          : graph != null ? "[" + graph + ",optimize=" + r.getParams().getParam("optimize") + "]"
          : pipeline != null ? "[pipeline=" + pipeline + "]" : "";
      System.out.printf(Locale.ROOT, "%-40s %12.4f %s (min %.4f, n=%d)%n",
          cls + "." + method + label, med, unit, min, st.getN());
      switch (cls + "." + method) {
        case "W2WideMlp.step" -> lines.add(result("W2", kiln, med, "ms/step",
            String.format(Locale.ROOT, "GFLOP/s=%.1f min=%.4f samples=%d", Workloads.WideMlp.FLOP_PER_STEP / (med * 1e-3) / 1e9,
                min, st.getN())));
        case "W1TwoLayerStep.step" -> lines.add(result("W1", kiln, med, "ms/step",
            String.format(Locale.ROOT, "%s min=%.4f samples=%d", checks.getOrDefault("W1", ""), min, st.getN())));
        case "W1TwoLayerStep.stepHandWritten" -> lines.add(result("W1-hand", kiln, med, "ms/step",
            String.format(Locale.ROOT, "gradients written by hand, min=%.4f samples=%d", min, st.getN())));
        case "W1TwoLayerStep.stepNoCopy" -> lines.add(result("W1-nocopy", kiln, med, "ms/step",
            String.format(Locale.ROOT, "runNoCopy(): new_w1/new_w2 lent to a Result closed each step, min=%.4f samples=%d", min, st.getN())));
        case "W1TwoLayerStep.stepAssignsAsTargets" -> lines.add(result("W1-targets", kiln, med, "ms/step",
            String.format(Locale.ROOT, "assigns as targets, only the loss fetched, min=%.4f samples=%d", min, st.getN())));
        case "W3ElementwiseChain.run" -> lines.add(result("W3", kiln, med, "ms/run",
            String.format(Locale.ROOT, "GB/s=%.2f %s min=%.4f samples=%d",
                8.0 * Workloads.ElementwiseChain.SIZE / (med * 1e-3) / 1e9, checks.getOrDefault("W3", ""), min, st.getN())));
        case "W3NoVectorFlag.run" -> lines.add(result("W3-novector", kiln, med, "ms/run",
            String.format(Locale.ROOT, "JVM without --add-modules jdk.incubator.vector, GB/s=%.2f min=%.4f samples=%d",
                8.0 * Workloads.ElementwiseChain.SIZE / (med * 1e-3) / 1e9, min, st.getN())));
        case "W4Dispatch.chain1000" -> lines.add(result("W4", "kiln", med / Workloads.Dispatch.OPS, "us/op",
            String.format(Locale.ROOT, "run_us=%.2f %s min_run_us=%.2f samples=%d ops=1000 (500 mul + 500 add)",
                med, checks.getOrDefault("W4", ""), min, st.getN())));
        case "LoopOverhead.counter" -> lines.add(result("loop", "kiln", med * 1e6 / LoopOverhead.ITERATIONS, "ns/iteration",
            String.format(Locale.ROOT, "whileLoop counting to 1,000,000: run_ms=%.3f min_run_ms=%.3f samples=%d",
                med, min, st.getN())));
        case "W4Dispatch.identity" -> lines.add(result("W4-1op", "kiln", med, "us/run",
            String.format(Locale.ROOT, "feed x[16] -> Identity -> fetch: fixed Session.run cost, min=%.2f samples=%d",
                min, st.getN())));
        case "Sgemm.kiln", "Sgemm.direct" -> {
          String[] p = shape.split("x");
          double flop = 2.0 * Double.parseDouble(p[0]) * Double.parseDouble(p[1]) * Double.parseDouble(p[2]);
          double gflops = flop / (med * 1e-3) / 1e9;
          lines.add(result("sgemm " + shape, method.equals("kiln") ? "kiln-runtime" : blasName() + "-direct(kiln-process)",
              gflops, "GFLOP/s", String.format(Locale.ROOT, "MxKxN, row-major NN, median_ms=%.4f max=%.1f blas_core=%s",
                  med, flop / (min * 1e-3) / 1e9, blasCore())));
        }
        case "PlanCompile.compilePlan" -> lines.add(result("compile " + graph,
            "kiln-" + ("true".equals(r.getParams().getParam("optimize")) ? "optimized" : "unoptimized"), med, unit,
            String.format(Locale.ROOT, "one plan compiled, uncached; min=%.1f", min)));
        default -> {}
      }
    }
    System.out.println();
    lines.forEach(System.out::println);
  }

  /** {@code -Dkiln.bench.jvmArgs}: extra flags for the JVMs the harnesses start (RunAll's forks, ColdStart's runs). */
  static List<String> benchJvmArgs() {
    return List.of(System.getProperty("kiln.bench.jvmArgs", "").trim().split("\\s+")).stream()
        .filter(a -> !a.isEmpty()).toList();
  }

  private static String blasName() {
    return blasCore().startsWith("MKL") ? "mkl" : "openblas";
  }

  private static String blasCore() {
    return blasDescription().replace(' ', '_');
  }

  private static String blasDescription() {
    try {
      return dev.kiln.runtime.BlasInfo.describe();
    } catch (RuntimeException | LinkageError e) {
      return "unknown";
    }
  }

  private static String result(String workload, String impl, double median, String unit, String notes) {
    return String.format(Locale.ROOT, "RESULT\t%s\t%s\t%.4f\t%s\t%s", workload, impl, median, unit, notes);
  }

  /** The workloads' results, to compare with the anchors' (same data). */
  private static Map<String, String> checksums(String include) {
    java.util.HashMap<String, String> m = new java.util.HashMap<>();
    if (matches(include, "W1TwoLayerStep")) {
      Workloads.TwoLayer net = new Workloads.TwoLayer();
      try (Session s = new Session(net.graph)) {
        s.run(net.init);
        Map<Output, Tensor> feeds = Map.of(net.x, net.xv, net.y, net.yv);
        float loss0 = 0;
        float loss = 0;
        for (int step = 0; step < 500; step++) {
          loss = s.run(feeds, net.loss, net.newW1, net.newW2).get(0).floatValue();
          if (step == 0) {
            loss0 = loss;
          }
        }
        m.put("W1", String.format(Locale.ROOT, "loss0=%.6g loss499=%.6g", loss0, loss));
      }
    }
    if (matches(include, "W3ElementwiseChain")) {
      Workloads.ElementwiseChain w = new Workloads.ElementwiseChain();
      try (Session s = new Session(w.graph)) {
        m.put("W3", String.format(Locale.ROOT, "sum=%.6g", s.run(Map.of(w.x, w.xv), w.sum).get(0).floatValue()));
      }
    }
    if (matches(include, "W4Dispatch")) {
      Workloads.Dispatch w = new Workloads.Dispatch();
      try (Session s = new Session(w.graph)) {
        m.put("W4", String.format(Locale.ROOT, "y[0]=%.6g", s.run(Map.of(w.x, w.xv), w.y).get(0).getDouble(0)));
      }
    }
    return m;
  }

  private static boolean matches(String include, String cls) {
    return java.util.regex.Pattern.compile(include).matcher("dev.kiln.bench." + cls + ".x").find();
  }
}
