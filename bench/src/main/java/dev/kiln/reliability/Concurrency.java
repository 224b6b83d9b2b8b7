package dev.kiln.reliability;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;

/**
 * Campaign 2: 8 threads run one Session at once, each a seeded sequence over several fetch signatures
 * and batch sizes; every result must be bit-identical to the same run made serially first. A second
 * check does the same with {@code maxCachedPlans(2)}, so that plans are evicted and recompiled while
 * other threads run them.
 */
public final class Concurrency {
  private static final int THREADS = 8;
  private static final int[] BATCHES = {1, 4, 7, 33, 64};
  private static final int INPUTS_PER_BATCH = 3;

  private Concurrency() {}

  public static void main(String[] args) throws InterruptedException {
    Campaign campaign = new Campaign("concurrency");
    Workload w = new Workload(16);
    int runsPerThread = Campaign.scaled(2000, 50);
    hammer(campaign.check("concurrency: 8 threads x " + runsPerThread + " runs = serial, bit for bit"),
        w, SessionOptions.defaults(), runsPerThread, 1);
    int evicting = Campaign.scaled(500, 20);
    hammer(campaign.check("concurrency: 8 threads x " + evicting + " runs, maxCachedPlans(2)"),
        w, SessionOptions.builder().maxCachedPlans(2).build(), evicting, 2);
    campaign.finish();
  }

  private record Job(int signature, int batch, int input) {
    String describe() {
      return "signature " + signature + ", batch " + BATCHES[batch] + ", input " + input;
    }
  }

  private static void hammer(Check check, Workload w, SessionOptions options, int runsPerThread, long seed)
      throws InterruptedException {
    List<List<Output>> sigs = w.signatures();
    Tensor[][] inputs = new Tensor[BATCHES.length][INPUTS_PER_BATCH];
    for (int b = 0; b < BATCHES.length; b++) {
      for (int i = 0; i < INPUTS_PER_BATCH; i++) {
        inputs[b][i] = w.batch(BATCHES[b], 1000L * b + i);
      }
    }
    try (Session s = new Session(w.g, options)) {
      s.run(w.init());
      // The serial reference: every (signature, batch, input) once, before any concurrency.
      Map<Job, List<Tensor>> reference = new HashMap<>();
      for (int k = 0; k < sigs.size(); k++) {
        for (int b = 0; b < BATCHES.length; b++) {
          for (int i = 0; i < INPUTS_PER_BATCH; i++) {
            reference.put(new Job(k, b, i), s.run(Map.of(w.x, inputs[b][i]), sigs.get(k).toArray(Output[]::new)));
          }
        }
      }
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int t = 0; t < THREADS; t++) {
        Random rnd = new Random(seed * 100 + t);
        Thread th = new Thread(() -> {
          try {
            start.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          for (int r = 0; r < runsPerThread; r++) {
            Job j = new Job(rnd.nextInt(sigs.size()), rnd.nextInt(BATCHES.length), rnd.nextInt(INPUTS_PER_BATCH));
            Verdict v;
            try {
              List<Tensor> got = s.run(Map.of(w.x, inputs[j.batch()][j.input()]),
                  sigs.get(j.signature()).toArray(Output[]::new));
              String diff = Workload.difference(reference.get(j), got);
              v = diff == null ? Verdict.handled("identical") : Verdict.failed("differs from the serial reference", diff);
            } catch (Throwable e) {
              v = Verdict.failed("run threw " + e.getClass().getSimpleName(), Classify.describe(e));
            }
            check.record(j.describe(), v);
          }
        }, "concurrency-" + t);
        threads.add(th);
        th.start();
      }
      start.countDown();
      for (Thread th : threads) {
        th.join();
      }
      check.note(String.format("%d runs in %.1f s on %d threads (%s)", THREADS * runsPerThread,
          (System.nanoTime() - t0) / 1e9, THREADS, options));
    }
  }
}
