package dev.kiln.optimizer;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import dev.kiln.graph.Subgraph;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loop rewrites ({@code loops}): computations in a While's body or condition that depend only on
 * captured values and constants (loop-invariant, stateless) move out of the loop and enter it as
 * captured values (of both subgraphs, which share one parameter list),
 * computed once instead of per iteration; a loop variable whose final value nothing reads and that
 * no other loop value or the condition depends on is removed with the work that computes it.
 */
public final class LoopOptimizer implements Pass {
  public LoopOptimizer() {}

  @Override
  public String name() {
    return "loops";
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    Set<Output> used = new HashSet<>(p.fetches());
    used.addAll(p.fed());
    for (Operation op : p.graph().operations()) {
      used.addAll(op.inputs());
    }
    boolean any = p.graph().operations().stream().anyMatch(op -> isLoop(op, p)
        && (!hoistable(op, 1).isEmpty() || !hoistable(op, 0).isEmpty() || !unusedVariables(op, used).isEmpty()));
    if (!any) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    int hoisted = 0;
    int removed = 0;
    for (Operation op : p.graph().operations()) {
      if (!isLoop(op, p)) {
        rw.copy(op);
        continue;
      }
      Set<Operation> hoist = hoistable(op, 1);
      Set<Operation> hoistCond = hoistable(op, 0);
      List<Integer> dead = unusedVariables(op, used);
      if (hoist.isEmpty() && hoistCond.isEmpty() && dead.isEmpty()) {
        rw.copy(op);
        continue;
      }
      hoisted += hoist.size() + hoistCond.size();
      removed += dead.size();
      rewrite(rw, op, hoist, hoistCond, dead);
    }
    stats.add("loop-invariant nodes hoisted", hoisted);
    stats.add("loop variables removed", removed);
    return Prune.removeDead(rw.finish(), stats);
  }

  /** A While this pass may rebuild: no control inputs, no fed output (a fed value keeps its node). */
  private static boolean isLoop(Operation op, Program p) {
    return op.def() instanceof ControlFlowOp.While && op.controlInputs().isEmpty()
        && op.outputs().stream().noneMatch(p.fed()::contains);
  }

  private static int loopVars(Operation w) {
    return w.subgraphs().get(1).results().size() - (int) w.attrs().getLong(ControlFlowOp.NUM_STACKED);
  }

  /**
   * Nodes of subgraph {@code k} (0: the condition, 1: the body) computed from captured values and
   * constants alone, worth computing outside (not constants).
   */
  private static Set<Operation> hoistable(Operation w, int k) {
    Subgraph body = w.subgraphs().get(k);
    int n = loopVars(w);
    Set<Operation> invariant = new HashSet<>();
    // A variable the loop assigns changes between iterations: what reads it is not invariant.
    List<Integer> assigned = ControlFlowOp.assignedInputs(w);
    for (int i = n; i < body.parameters().size(); i++) {
      if (!assigned.contains(i)) {
        invariant.add(body.parameters().get(i).op());
      }
    }
    Set<Operation> hoist = new HashSet<>();
    for (Operation op : body.graph().operations()) {
      if (op.type().equals("Const")) {
        invariant.add(op);
        continue;
      }
      if (op.type().equals("Parameter") || op.isStateful() || !op.subgraphs().isEmpty()
          || !op.controlInputs().isEmpty() || op.numOutputs() == 0) {
        continue;
      }
      if (op.inputs().stream().allMatch(in -> invariant.contains(in.op()))) {
        invariant.add(op);
        hoist.add(op);
      }
    }
    return hoist;
  }

  /** Loop variables whose final value nothing reads and that neither the condition nor another result depends on. */
  private static List<Integer> unusedVariables(Operation w, Set<Output> used) {
    int n = loopVars(w);
    Subgraph cond = w.subgraphs().get(0);
    Subgraph body = w.subgraphs().get(1);
    Set<Operation> condNeeds = Bodies.needed(cond.results());
    List<Integer> dead = new ArrayList<>();
    for (int j = 0; j < n && dead.size() < n - 1; j++) {
      if (used.contains(w.output(j)) || condNeeds.contains(cond.parameters().get(j).op())) {
        continue;
      }
      List<Output> others = new ArrayList<>(body.results());
      others.remove(j);
      if (!Bodies.needed(others).contains(body.parameters().get(j).op())) {
        dead.add(j);
      }
    }
    return dead;
  }

  private static void rewrite(Rewriter rw, Operation w, Set<Operation> hoist, Set<Operation> hoistCond,
      List<Integer> dead) {
    Subgraph cond = w.subgraphs().get(0);
    Subgraph body = w.subgraphs().get(1);
    int n = loopVars(w);
    // The hoisted nodes, outside: captured Parameters read the loop's inputs, constants are copied.
    Map<Output, Output> outside = new IdentityHashMap<>();
    hoistOut(rw, w, body, hoist, "/", outside);
    hoistOut(rw, w, cond, hoistCond, "/cond/", outside);
    // Hoisted values the rest of the body or condition (or their results) reads enter as new captured
    // values of both: the condition's first, then the body's.
    Set<Output> reads = new java.util.LinkedHashSet<>();
    hoistedReads(cond, hoistCond, reads);
    hoistedReads(body, hoist, reads);
    List<Output> extra = new ArrayList<>(reads);

    Set<Integer> drop = new HashSet<>(dead);
    List<Output> keptResults = new ArrayList<>();
    for (int j = 0; j < body.results().size(); j++) {
      if (!drop.contains(j)) {
        keptResults.add(body.results().get(j));
      }
    }
    Set<Operation> live = Bodies.needed(keptResults, hoist);
    Subgraph newBody = rebuild(body, drop, extra, hoist, live, keptResults);
    Subgraph newCond = rebuild(cond, drop, extra, hoistCond, Bodies.needed(cond.results(), hoistCond), cond.results());
    OperationBuilder b = rw.newNodeReplacing(w.type(), w);
    for (int i = 0; i < w.numInputs(); i++) {
      if (!drop.contains(i)) {
        b.addInput(rw.map(w.input(i)));
      }
    }
    extra.forEach(v -> b.addInput(outside.get(v)));
    b.setAttrs(w.attrs()).setDevice(w.device()).addSubgraph(newCond).addSubgraph(newBody);
    Operation built = b.build();
    List<Output> replacements = new ArrayList<>();
    for (int j = 0, k = 0; j < w.numOutputs(); j++) {
      // A removed variable's output is read by nothing: any value of its dtype stands for it.
      replacements.add(drop.contains(j) ? rw.map(w.input(j)) : built.output(k++));
    }
    rw.replace(w, replacements, built);
  }

  /** Copies the {@code hoist} nodes of {@code s} (and the constants they read) out of the loop, extending {@code outside}. */
  private static void hoistOut(Rewriter rw, Operation w, Subgraph s, Set<Operation> hoist, String infix,
      Map<Output, Output> outside) {
    if (hoist.isEmpty()) {
      return;
    }
    for (int i = loopVars(w); i < s.parameters().size(); i++) {
      outside.put(s.parameters().get(i), rw.map(w.input(i)));
    }
    for (Operation op : s.graph().operations()) {
      boolean konst = op.type().equals("Const") && op.outputs().stream().anyMatch(o -> readByHoisted(o, hoist));
      if (!hoist.contains(op) && !konst) {
        continue;
      }
      OperationBuilder b = rw.newNode(op.type(), w.name() + infix + op.name());
      op.inputs().forEach(in -> b.addInput(outside.get(in)));
      b.setAttrs(op.attrs()).setDevice(op.device());
      Operation c = b.build();
      for (int j = 0; j < op.numOutputs(); j++) {
        outside.put(op.output(j), c.output(j));
      }
    }
  }

  /** The hoisted values of {@code s} that its other nodes or its results read, added to {@code reads}. */
  private static void hoistedReads(Subgraph s, Set<Operation> hoist, Set<Output> reads) {
    for (Operation op : s.graph().operations()) {
      if (!hoist.contains(op)) {
        op.inputs().stream().filter(in -> hoist.contains(in.op())).forEach(reads::add);
      }
    }
    s.results().stream().filter(r -> hoist.contains(r.op())).forEach(reads::add);
  }

  private static boolean readByHoisted(Output o, Set<Operation> hoist) {
    return hoist.stream().anyMatch(h -> h.inputs().contains(o));
  }

  /**
   * {@code s} without the Parameters of {@code drop}, with a new Parameter per value of {@code extra}
   * standing for it, without the {@code skip} nodes, keeping only {@code live} ones (all when null).
   */
  private static Subgraph rebuild(Subgraph s, Set<Integer> drop, List<Output> extra, Set<Operation> skip,
      Set<Operation> live, List<Output> results) {
    Graph g = new Graph();
    Map<Output, Output> map = new IdentityHashMap<>();
    List<Output> params = new ArrayList<>();
    for (int i = 0; i < s.parameters().size(); i++) {
      Output p = s.parameters().get(i);
      if (drop.contains(i)) {
        continue;
      }
      Output q = g.opBuilder("Parameter", p.op().name()).setAttrs(p.op().attrs()).build().output(0);
      map.put(p, q);
      params.add(q);
    }
    int k = 0;
    for (Output v : extra) {
      String name = "hoisted_" + k++;
      while (s.graph().findOperation(name).isPresent()) {
        name = name + "_";
      }
      Output q = g.opBuilder("Parameter", name).setAttr("dtype", v.dtype()).setAttr("shape", v.shape()).build().output(0);
      if (skip.contains(v.op())) {
        map.put(v, q);
      }
      params.add(q);
    }
    Bodies.copy(s.graph(), g, map, op -> !op.type().equals("Parameter") && !skip.contains(op)
        && (live == null || live.contains(op)));
    return new Subgraph(g, params, results.stream().map(map::get).toList());
  }
}
