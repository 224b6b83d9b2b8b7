package dev.kiln.bench;

import dev.kiln.runtime.Session;

/**
 * W1's or W2's step in a plain loop (no JMH), for profiling with {@code -Dkiln.profile=true} or
 * comparing builds quickly: {@code java -cp benchmarks.jar dev.kiln.bench.StepLoop w1|w1nocopy|w2
 * [on|off] [steps]}; prints the median and minimum step time ({@code w1nocopy}: W1 through
 * {@code runNoCopy()}).
 */
public final class StepLoop {
  private StepLoop() {}

  public static void main(String[] args) {
    String workload = args.length > 0 ? args[0] : "w2";
    String pipeline = args.length > 1 ? args[1] : "on";
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 400;
    Runnable step;
    Session session;
    if (workload.equals("w1")) {
      Workloads.TwoLayer net = new Workloads.TwoLayer();
      session = new Session(net.graph, Workloads.options(pipeline));
      session.run(net.init);
      java.util.Map<dev.kiln.graph.Output, dev.kiln.graph.Tensor> feeds = java.util.Map.of(net.x, net.xv, net.y, net.yv);
      step = () -> session.run(feeds, net.loss, net.newW1, net.newW2);
    } else if (workload.equals("w1nocopy")) {
      Workloads.TwoLayer net = new Workloads.TwoLayer();
      session = new Session(net.graph, Workloads.options(pipeline));
      session.run(net.init);
      Session.Runner runner = session.runner().feed(net.x, net.xv).feed(net.y, net.yv).fetch(net.loss)
          .fetch(net.newW1).fetch(net.newW2);
      step = () -> {
        try (dev.kiln.runtime.Result r = runner.runNoCopy()) {
          r.get(0).floatValue();
        }
      };
    } else if (workload.equals("w2")) {
      Workloads.WideMlp net = new Workloads.WideMlp();
      session = new Session(net.graph, Workloads.options(pipeline));
      session.run(net.init);
      step = () -> session.runner().feed(net.x, net.xv).feed(net.labels, net.labelsV).fetch(net.loss).addTarget(net.train).run();
    } else {
      throw new IllegalArgumentException("workload " + workload + ": expected w1, w1nocopy or w2");
    }
    try (session) {
      int warm = Math.max(100, steps / 4);
      long[] t = new long[steps];
      for (int i = 0; i < steps + warm; i++) {
        long t0 = System.nanoTime();
        step.run();
        if (i >= warm) {
          t[i - warm] = System.nanoTime() - t0;
        }
      }
      if (steps >= 1000) {
        // the warm-up curve: the JIT reaches the small kernels late (see bench/README.md)
        StringBuilder w = new StringBuilder("medians of 500-step windows after the first " + warm + ":");
        for (int from = 0; from + 500 <= steps; from += 500) {
          long[] part = java.util.Arrays.copyOfRange(t, from, from + 500);
          java.util.Arrays.sort(part);
          w.append(String.format(" %.3f", part[250] / 1e6));
        }
        System.out.println(w.append(" ms"));
      }
      java.util.Arrays.sort(t);
      System.out.printf("%s step (%s): median %.3f ms, min %.3f ms over %d steps%n", workload, pipeline, t[steps / 2] / 1e6,
          t[0] / 1e6, steps);
    }
  }
}
