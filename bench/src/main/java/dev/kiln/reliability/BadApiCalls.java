package dev.kiln.reliability;

import java.util.ArrayList;
import java.util.List;

/**
 * Campaign 1: bad API calls (wrong shapes, dtypes, ranks, axes, feeds, nulls, names, indices, outputs of
 * another graph or of a rolled-back {@code Graph.atomically}, bad attributes, huge shapes, Tensor
 * accessors out of range, Session misuse). Each must throw an exception of an accepted kind whose
 * message names something relevant, leave the graph as it was when the call was a single call, and
 * leave the Session computing the known-good values. A broken fixture is rebuilt so that one defect
 * does not fail every later case.
 */
public final class BadApiCalls {
  private BadApiCalls() {}

  public static void main(String[] args) {
    Campaign campaign = new Campaign("bad API calls");
    Check check = campaign.check("api: bad calls (shapes, dtypes, nulls, names, huge shapes, misuse)");
    List<ApiCase> cases = new ArrayList<>();
    cases.addAll(ApiCasesGraph.all());
    cases.addAll(ApiCasesValues.all());
    cases.addAll(ApiCasesSession.all());
    ApiFixture f = new ApiFixture();
    java.util.Map<String, int[]> byGroup = new java.util.TreeMap<>();
    for (ApiCase c : cases) {
      Verdict v = run(c, f);
      String broken = f.unhealthy();
      if (v.handled() && broken != null) {
        v = Verdict.failed("Session or graph unusable afterwards", broken);
      }
      if (!v.handled() || broken != null) {
        // A fresh fixture, so that what a failed case left behind (a node named "null", a ghost) does
        // not decide the cases after it.
        f.close();
        f = new ApiFixture();
      }
      check.record("[" + c.group() + "] " + c.description(), v);
      int[] t = byGroup.computeIfAbsent(c.group(), k -> new int[2]);
      t[0]++;
      t[1] += v.handled() ? 1 : 0;
    }
    byGroup.forEach((g, t) -> check.note(String.format("%-14s tried %3d, handled %3d", g, t[0], t[1])));
    f.close();
    campaign.finish();
  }

  static Verdict run(ApiCase c, ApiFixture f) {
    ApiCase.Call call;
    try {
      call = c.setup().apply(f);
    } catch (Throwable t) {
      return Verdict.failed("harness: setup of a case failed", Classify.describe(t));
    }
    int before = f.g.size();
    Object result = null;
    Throwable thrown = null;
    try {
      result = call.call();
    } catch (Throwable t) {
      thrown = t;
    }
    Verdict v = c.expect().judge(result, thrown, c.relevant());
    if (v.handled() && thrown != null && c.singleCall() && f.g.size() != before) {
      return Verdict.failed("failed call left nodes in the graph",
          (f.g.size() - before) + " node(s) added by a call that threw " + Classify.describe(thrown));
    }
    return v;
  }
}
