package dev.kiln.runtime;

import dev.kiln.runtime.exec.Plan;
import dev.kiln.runtime.exec.PlanCompiler;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.plan.PlanKey;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a run's memory plan will allocate, known before anything runs (what {@code kiln opt --report}
 * prints): the plan is compiled for the given feeds (their shapes), fetches and targets, with the
 * Session's options (so with the optimizer pipeline unless it is switched off), and not run.
 *
 * @param peakBytes bytes of the plan's buffers: exactly what one run's frame allocates (feeds,
 *     variables, constants and fetched results excluded)
 * @param liveBytesPeak the most bytes of values live at one step (a lower bound for any plan)
 * @param buffers number of buffers
 * @param inPlace outputs written over an input that dies at their op
 * @param kernels kernel calls per run
 */
public record MemoryReport(long peakBytes, long liveBytesPeak, int buffers, int inPlace, int kernels) {
  public static MemoryReport of(Session session, Map<Output, Tensor> feeds, List<Output> fetches,
      List<Operation> targets) {
    Output[] feedOuts = feeds.keySet().toArray(Output[]::new);
    Tensor[] feedValues = new Tensor[feedOuts.length];
    for (int i = 0; i < feedOuts.length; i++) {
      feedValues[i] = feeds.get(feedOuts[i]);
    }
    PlanKey.sortFeeds(feedOuts, feedValues);
    PlanKey key = new PlanKey(feedOuts, feedValues, fetches.toArray(Output[]::new), targets.toArray(Operation[]::new));
    return of(PlanCompiler.compile(session, key, feedValues));
  }

  static MemoryReport of(Plan plan) {
    var m = plan.memory;
    return new MemoryReport(m.peakBytes(), m.liveBytesPeak(), m.bufferCount(), m.inPlaceCount(), plan.kernels.length);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "memory plan: peak %d bytes in %d buffers (live peak %d bytes, %d written in place), %d kernel calls per run",
        peakBytes, buffers, liveBytesPeak, inPlace, kernels);
  }
}
