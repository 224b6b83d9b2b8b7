package dev.kiln.reliability;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Campaign 3: long runs with the heap after GC sampled. 100,000 runs of a small graph over a few batch
 * sizes with {@code maxCachedPlans(4)}; 2,000 Sessions opened, run and closed on one thread; 2,000
 * batch sizes through one Session with {@code maxCachedPlans(16)}, then closed. Every run's values are
 * checked against a reference Session; a heap sample more than {@value #TOLERANCE_MB} MB above the
 * campaign's baseline is a failure (memory that is never released).
 */
public final class Soak {
  static final int TOLERANCE_MB = 4;
  private static final int[] BATCHES = {1, 2, 3, 5, 8, 13};

  private Soak() {}

  public static void main(String[] args) {
    Campaign campaign = new Campaign("soak");
    Workload w = new Workload(16);
    Check values = campaign.check("soak: every run gives the reference values");
    try (Session reference = new Session(w.g)) {
      reference.run(w.init());
      manyRuns(campaign, w, reference, values);
      manySessions(campaign, w, reference, values);
      manyBatchSizes(campaign, w, reference, values);
    }
    campaign.finish();
  }

  private static void manyRuns(Campaign campaign, Workload w, Session reference, Check values) {
    int runs = Campaign.scaled(100_000, 2_000);
    int every = runs / 10;
    Check heap = campaign.check("soak: heap after GC, " + runs + " runs, maxCachedPlans(4)");
    List<List<Output>> sigs = w.signatures().subList(0, 3);
    Map<String, List<Tensor>> expected = new HashMap<>();
    Random rnd = new Random(3);
    long baseline = -1;
    long t0 = System.nanoTime();
    try (Session s = new Session(w.g, SessionOptions.builder().maxCachedPlans(4).build())) {
      s.run(w.init());
      int batch = BATCHES[0];
      for (int r = 1; r <= runs; r++) {
        if (r % 500 == 1) {
          batch = BATCHES[rnd.nextInt(BATCHES.length)];
        }
        int k = r % sigs.size();
        Tensor in = w.batch(batch, batch);
        Output[] fetch = sigs.get(k).toArray(Output[]::new);
        List<Tensor> want = expected.computeIfAbsent(k + "/" + batch, key -> reference.run(Map.of(w.x, in), fetch));
        checkRun(values, "run " + r + ", signature " + k + ", batch " + batch, () -> s.run(Map.of(w.x, in), fetch), want);
        if (r % every == 0) {
          long used = heapAfterGc();
          if (baseline < 0) {
            baseline = used;
            heap.note("baseline after " + r + " runs: " + mb(used) + " MB");
          } else {
            heap.record("after " + r + " runs", within(used, baseline));
          }
        }
      }
    }
    heap.note(String.format("%d runs in %.1f s", runs, (System.nanoTime() - t0) / 1e9));
  }

  private static void manySessions(Campaign campaign, Workload w, Session reference, Check values) {
    int sessions = Campaign.scaled(2_000, 200);
    int every = Math.max(1, sessions / 8);
    Check heap = campaign.check("soak: heap after GC, " + sessions + " Sessions open/run/close");
    Tensor in = w.batch(4, 4);
    Output[] fetch = {w.chain, w.probs};
    List<Tensor> want = reference.run(Map.of(w.x, in), fetch);
    long baseline = -1;
    long t0 = System.nanoTime();
    for (int i = 1; i <= sessions; i++) {
      try (Session s = new Session(w.g)) {
        s.run(w.init());
        checkRun(values, "Session " + i, () -> s.run(Map.of(w.x, in), fetch), want);
      }
      if (i == Math.min(100, every)) {
        baseline = heapAfterGc();
        heap.note("baseline after " + i + " Sessions: " + mb(baseline) + " MB");
      } else if (i % every == 0) {
        long used = heapAfterGc();
        heap.record("after " + i + " Sessions", within(used, baseline));
        heap.note("after " + i + " Sessions: " + mb(used) + " MB");
      }
    }
    heap.note(String.format("%d Sessions in %.1f s", sessions, (System.nanoTime() - t0) / 1e9));
  }

  private static void manyBatchSizes(Campaign campaign, Workload w, Session reference, Check values) {
    int sizes = Campaign.scaled(2_000, 200);
    int every = Math.max(1, sizes / 8);
    Check heap = campaign.check("soak: heap after GC, " + sizes + " batch sizes, maxCachedPlans(16), close");
    Output[] fetch = {w.chainSum, w.probs};
    long before = heapAfterGc();
    heap.note("before the Session: " + mb(before) + " MB");
    // The most the Session may hold: 16 cached plans of the largest batch sizes, measured in a
    // Session of its own (plans' buffers grow with the batch, so a baseline of small sizes is too low).
    long baseline;
    try (Session full = new Session(w.g, SessionOptions.builder().maxCachedPlans(16).build())) {
      full.run(w.init());
      for (int b = sizes - 15; b <= sizes; b++) {
        full.run(Map.of(w.x, w.batch(b, 7)), fetch);
      }
      baseline = heapAfterGc();
    }
    heap.note("baseline, 16 plans of the largest batch sizes cached: " + mb(baseline) + " MB");
    long t0 = System.nanoTime();
    try (Session s = new Session(w.g, SessionOptions.builder().maxCachedPlans(16).build())) {
      s.run(w.init());
      for (int b = 1; b <= sizes; b++) {
        Tensor in = w.batch(b, 7);
        // The reference is checked on a sample only: it would otherwise cache 2,000 plans itself.
        if (b % 97 == 0) {
          List<Tensor> want = reference.run(Map.of(w.x, in), fetch);
          checkRun(values, "batch size " + b, () -> s.run(Map.of(w.x, in), fetch), want);
        } else {
          s.run(Map.of(w.x, in), fetch);
        }
        if (b % every == 0) {
          long used = heapAfterGc();
          heap.record("after " + b + " batch sizes", within(used, baseline));
          heap.note("after " + b + " batch sizes: " + mb(used) + " MB");
        }
      }
    } catch (OutOfMemoryError e) {
      heap.record("running " + sizes + " batch sizes", Verdict.failed("OutOfMemoryError", Classify.describe(e)));
    }
    long after = heapAfterGc();
    heap.record("after close()", within(after, before));
    heap.note("after close(): " + mb(after) + " MB");
    heap.note(String.format("%d batch sizes in %.1f s", sizes, (System.nanoTime() - t0) / 1e9));
  }

  private interface Run {
    List<Tensor> run();
  }

  private static void checkRun(Check values, String what, Run run, List<Tensor> want) {
    try {
      String diff = Workload.difference(want, run.run());
      // Only failures are recorded one by one; a correct run is counted without a message.
      values.record(what, diff == null ? Verdict.handled("reference values") : Verdict.failed("wrong values", diff));
    } catch (Throwable e) {
      values.record(what, Verdict.failed("run threw " + e.getClass().getSimpleName(), Classify.describe(e)));
    }
  }

  private static Verdict within(long used, long baseline) {
    long grew = used - baseline;
    String d = String.format("heap after GC %.1f MB, %+.1f MB against the baseline", used / 1048576.0, grew / 1048576.0);
    return grew <= TOLERANCE_MB * 1048576L ? Verdict.handled(d) : Verdict.failed("heap grew by more than " + TOLERANCE_MB + " MB", d);
  }

  static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static String mb(long bytes) {
    return String.format("%.1f", bytes / 1048576.0);
  }
}
