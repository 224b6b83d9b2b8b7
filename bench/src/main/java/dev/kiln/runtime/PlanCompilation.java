package dev.kiln.runtime;

import dev.kiln.runtime.exec.PlanCompiler;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.plan.PlanKey;
import java.util.Map;

/** For the compile-time benchmark: compiles one plan (optimizer pipeline included when on), uncached. */
public final class PlanCompilation {
  private PlanCompilation() {}

  /** Compiles the plan a run with these feeds, fetches and targets would use; returns its kernel count. */
  public static int compile(Session session, Map<Output, Tensor> feeds, Output[] fetches, Operation[] targets) {
    Output[] outs = feeds.keySet().toArray(Output[]::new);
    Tensor[] values = new Tensor[outs.length];
    for (int i = 0; i < outs.length; i++) {
      values[i] = feeds.get(outs[i]);
    }
    PlanKey.sortFeeds(outs, values);
    return PlanCompiler.compile(session, new PlanKey(outs, values, fetches, targets), values).kernels.length;
  }
}
