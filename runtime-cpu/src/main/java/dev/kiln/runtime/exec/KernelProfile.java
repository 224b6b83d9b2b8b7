package dev.kiln.runtime.exec;

import dev.kiln.runtime.kernels.Kernel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-kernel wall time of the Sessions with {@link SessionOptions#profileKernels()} on (a diagnostic:
 * each kernel is wrapped to add its nanoTime to its label's counter; the totals print at JVM exit, per
 * label, largest first). Only the counters are kept here, never the kernels, so profiled plans are
 * freed as usual; kernels of one label (the same node and types in a recompiled plan) add to one counter.
 */
public final class KernelProfile {
  private KernelProfile() {}

  /** Calls per kernel left out of its total (warm-up: {@code -Dkiln.profile.skip=N}). */
  private static final long SKIP = RuntimeProperties.SYSTEM.profileSkip();
  private static final ConcurrentHashMap<String, Counter> ALL = new ConcurrentHashMap<>();

  /** Registers the printing at exit once, when the first kernel is profiled. */
  private static final class Printer {
    static {
      Runtime.getRuntime().addShutdownHook(new Thread(KernelProfile::print));
    }

    static void ensureRegistered() {}
  }

  /** {@code k} timed, labelled by its place in the plan, the op (with a fused body's op types) and its types. */
  static Kernel wrap(int index, dev.kiln.graph.Operation op, Object outputTypes, Object inputTypes, Kernel k) {
    Printer.ensureRegistered();
    String label = index + " " + op.type() + " " + op.name() + " " + outputTypes + " <- " + inputTypes + body(op);
    return new Timed(ALL.computeIfAbsent(label, Counter::new), k);
  }

  /** The labels of the kernels profiled so far. */
  public static java.util.Set<String> labels() {
    return java.util.Set.copyOf(ALL.keySet());
  }

  /** The op types of a fused node's body, in order (empty for other ops). */
  private static String body(dev.kiln.graph.Operation op) {
    StringBuilder b = new StringBuilder();
    for (dev.kiln.graph.Subgraph g : op.subgraphs()) {
      b.append(" {");
      for (dev.kiln.graph.Operation o : g.graph().operations()) {
        if (!o.type().equals("Parameter")) {
          b.append(' ').append(o.type());
        }
      }
      b.append(" }");
    }
    return b.toString();
  }

  private static void print() {
    List<Counter> cs = new ArrayList<>(ALL.values());
    cs.removeIf(c -> c.calls.sum() == 0);
    cs.sort(Comparator.comparingLong((Counter c) -> -c.nanos.sum()));
    long total = cs.stream().mapToLong(c -> c.nanos.sum()).sum();
    System.err.printf("kernel profile: %d kernels, total %.1f ms%n", cs.size(), total / 1e6);
    for (Counter c : cs) {
      long calls = c.calls.sum();
      System.err.printf("%10.1f us/call %8d calls  %s%n", c.nanos.sum() / 1e3 / calls, calls, c.label);
    }
  }

  /** The time of every kernel of one label. */
  private static final class Counter {
    final String label;
    final LongAdder nanos = new LongAdder();
    final LongAdder calls = new LongAdder();

    Counter(String label) {
      this.label = label;
    }
  }

  private static final class Timed implements Kernel {
    final Counter counter;
    final Kernel k;
    long skipped;

    Timed(Counter counter, Kernel k) {
      this.counter = counter;
      this.k = k;
    }

    @Override
    public void run(Object[] frame) {
      if (skipped < SKIP) {
        skipped++;
        k.run(frame);
        return;
      }
      long t0 = System.nanoTime();
      k.run(frame);
      counter.nanos.add(System.nanoTime() - t0);
      counter.calls.increment();
    }
  }
}
