package dev.kiln.bench;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * W1 as the anchors time it from a cold start, in this JVM (ColdStart runs it in fresh ones):
 * {@code ColdStep [warm-up steps] [timed steps]} runs the warm-up steps in a throw-away Session, then
 * the timed steps in a fresh one (step 0 is the initial loss), each step feeding x and y, fetching
 * loss, new_w1 and new_w2 and reading the loss. Prints {@code median <ms>}, {@code loss0}/{@code lossN},
 * and, from 1,000 timed steps on, {@code windows <ms> ...}: the median of each 500-step window.
 */
public final class ColdStep {
  private ColdStep() {}

  static final int WINDOW = 500;

  public static void main(String[] args) {
    int warm = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    int window = args.length > 2 ? Integer.parseInt(args[2]) : WINDOW;
    long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
    Workloads.TwoLayer net = new Workloads.TwoLayer();
    Map<Output, Tensor> feeds = Map.of(net.x, net.xv, net.y, net.yv);
    try (Session s = new Session(net.graph)) {
      s.run(net.init);
      for (int i = 0; i < warm; i++) {
        s.run(feeds, net.loss, net.newW1, net.newW2).get(0).floatValue();
      }
    }
    long[] t = new long[steps];
    float loss0 = 0;
    float last = 0;
    try (Session s = new Session(net.graph)) {
      s.run(net.init);
      long[] startMs = new long[steps / window + 1];
      for (int i = 0; i < steps; i++) {
        if (i % window == 0) {
          startMs[i / window] = System.currentTimeMillis() - jvmStart;
        }
        long t0 = System.nanoTime();
        float l = s.run(feeds, net.loss, net.newW1, net.newW2).get(0).floatValue();
        t[i] = System.nanoTime() - t0;
        if (i == 0) {
          loss0 = l;
        }
        last = l;
      }
      if (window != WINDOW) {
        System.out.println("window starts (ms since JVM start) " + java.util.Arrays.toString(startMs));
      }
    }
    System.out.printf(Locale.ROOT, "loss0 %.5e loss%d %.5e%n", loss0, steps - 1, last);
    if (steps >= 2 * window) {
      StringBuilder w = new StringBuilder("windows");
      for (double m : windowMedians(t, window)) {
        w.append(String.format(Locale.ROOT, " %.4f", m));
      }
      System.out.println(w);
    }
    System.out.printf(Locale.ROOT, "median %.4f%n", median(t) / 1e6);
  }

  /** The median of each whole window of {@code window} steps, in ms. */
  static double[] windowMedians(long[] t, int window) {
    double[] m = new double[t.length / window];
    for (int w = 0; w < m.length; w++) {
      m[w] = median(Arrays.copyOfRange(t, w * window, (w + 1) * window)) / 1e6;
    }
    return m;
  }

  static double median(long[] values) {
    long[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
  }
}
