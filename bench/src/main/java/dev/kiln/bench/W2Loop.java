package dev.kiln.bench;

import dev.kiln.runtime.Session;

/**
 * W2's step in a plain loop (no JMH), for profiling with {@code -Dkiln.profile=true} or comparing
 * builds quickly: {@code java -cp benchmarks.jar dev.kiln.bench.W2Loop [on|off] [steps]}; prints the
 * median and minimum step time.
 */
public final class W2Loop {
  private W2Loop() {}

  public static void main(String[] args) {
    String pipeline = args.length > 0 ? args[0] : "on";
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 400;
    Workloads.WideMlp net = new Workloads.WideMlp();
    try (Session session = new Session(net.graph, Workloads.options(pipeline))) {
      session.run(net.init);
      long[] t = new long[steps];
      for (int i = 0; i < steps + 100; i++) {
        long t0 = System.nanoTime();
        session.runner().feed(net.x, net.xv).feed(net.labels, net.labelsV).fetch(net.loss).addTarget(net.train).run();
        if (i >= 100) {
          t[i - 100] = System.nanoTime() - t0;
        }
      }
      java.util.Arrays.sort(t);
      System.out.printf("W2 step (%s): median %.3f ms, min %.3f ms over %d steps%n", pipeline, t[steps / 2] / 1e6, t[0] / 1e6, steps);
    }
  }
}
