package dev.kiln.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Per-kernel wall time, on with {@code -Dkiln.profile=true} (a diagnostic: each kernel is wrapped to
 * add its nanoTime to a counter; the totals print at JVM exit, per kernel, largest first).
 */
final class KernelProfile {
  private KernelProfile() {}

  static final boolean ON = Boolean.getBoolean("kiln.profile");
  /** Calls per kernel left out of its total (warm-up: {@code -Dkiln.profile.skip=N}). */
  private static final long SKIP = Long.getLong("kiln.profile.skip", 0);
  private static final List<Timed> ALL = new ArrayList<>();

  static {
    if (ON) {
      Runtime.getRuntime().addShutdownHook(new Thread(KernelProfile::print));
    }
  }

  /** {@code k} timed, labelled by its place in the plan, the op (with a fused body's op types) and its types. */
  static Kernel wrap(int index, dev.kiln.graph.Operation op, Object outputTypes, Object inputTypes, Kernel k) {
    Timed t = new Timed(index + " " + op.type() + " " + op.name() + " " + outputTypes + " <- " + inputTypes + body(op), k);
    synchronized (ALL) {
      ALL.add(t);
    }
    return t;
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
    List<Timed> ts;
    synchronized (ALL) {
      ts = new ArrayList<>(ALL);
    }
    ts.removeIf(t -> t.calls == 0);
    ts.sort(Comparator.comparingLong((Timed t) -> -t.nanos));
    long total = ts.stream().mapToLong(t -> t.nanos).sum();
    System.err.printf("kernel profile: %d kernels, total %.1f ms%n", ts.size(), total / 1e6);
    for (Timed t : ts) {
      System.err.printf("%10.1f us/call %8d calls  %s%n", t.nanos / 1e3 / t.calls, t.calls, t.label);
    }
  }

  private static final class Timed implements Kernel {
    final String label;
    final Kernel k;
    long nanos;
    long calls;
    long skipped;

    Timed(String label, Kernel k) {
      this.label = label;
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
      nanos += System.nanoTime() - t0;
      calls++;
    }
  }
}
