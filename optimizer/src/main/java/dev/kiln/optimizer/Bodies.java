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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Runs a pass inside the bodies of control-flow nodes ({@link ControlFlowOp}), at every depth: each
 * body is a program whose fetches are its results and whose Parameters are fed (and kept, as
 * targets, so that the body keeps its signature). A node whose bodies changed is rebuilt with them.
 */
final class Bodies {
  private Bodies() {}

  /** The passes that work inside bodies: the rewrites that keep a graph on the device it was placed on. */
  private static final Set<String> BODY_PASSES =
      Set.of("prune", "fold", "cse", "simplify", "fuse_matmul_update", "fuse_matmul", "fuse_conv", "fuse", "loops");

  static Program run(Pass pass, Program p, PassStatistics stats) {
    if (!BODY_PASSES.contains(pass.name())) {
      return p;
    }
    Map<Operation, List<Subgraph>> changed = new HashMap<>();
    for (Operation op : p.graph().operations()) {
      if (!(op.def() instanceof ControlFlowOp) || op.outputs().stream().anyMatch(p.fed()::contains)) {
        continue; // a node whose value is fed keeps its bodies: the run does not compute it
      }
      List<Subgraph> bodies = new ArrayList<>();
      boolean any = false;
      for (Subgraph s : op.subgraphs()) {
        Subgraph t = optimize(pass, s, stats);
        any |= t != s;
        bodies.add(t);
      }
      if (any) {
        changed.put(op, bodies);
      }
    }
    if (changed.isEmpty()) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    for (Operation op : p.graph().operations()) {
      List<Subgraph> bodies = changed.get(op);
      if (bodies == null) {
        rw.copy(op);
        continue;
      }
      OperationBuilder b = rw.newNodeReplacing(op.type(), op);
      op.inputs().forEach(in -> b.addInput(rw.map(in)));
      op.controlInputs().forEach(c -> b.addControlInput(rw.map(c)));
      b.setAttrs(op.attrs()).setDevice(op.device());
      bodies.forEach(b::addSubgraph);
      Operation built = b.build();
      rw.replace(op, built.outputs(), built);
    }
    return rw.finish();
  }

  /** {@code s} with {@code pass} run on it (and on the bodies inside it); {@code s} itself when nothing changed. */
  static Subgraph optimize(Pass pass, Subgraph s, PassStatistics stats) {
    List<Operation> params = s.parameters().stream().map(Output::op).toList();
    Program body = new Program(s.graph(), s.results(), params, Set.copyOf(s.parameters()));
    Program out = run(pass, pass.run(body, stats), stats);
    if (out == body) {
      return s;
    }
    return new Subgraph(out.graph(), out.targets().stream().map(op -> op.output(0)).toList(), out.fetches());
  }

  /**
   * Copies the nodes of {@code from} that {@code keep} accepts and {@code map} does not already map
   * into {@code to}, in order, extending {@code map}; names are kept.
   */
  static void copy(Graph from, Graph to, Map<Output, Output> map, Predicate<Operation> keep) {
    // Control inputs (an iteration's assigns ordered before a read) are copied with the nodes.
    Map<Operation, Operation> ops = new HashMap<>();
    for (Operation op : from.operations()) {
      if (!keep.test(op) || (op.numOutputs() > 0 && map.containsKey(op.output(0)))) {
        continue;
      }
      OperationBuilder b = to.opBuilder(op.type(), op.name());
      op.inputs().forEach(in -> b.addInput(map.get(in)));
      for (Operation c : op.controlInputs()) {
        Operation m = ops.get(c);
        if (m == null && c.numOutputs() > 0 && map.containsKey(c.output(0))) {
          m = map.get(c.output(0)).op();
        }
        if (m != null) {
          b.addControlInput(m);
        }
      }
      b.setAttrs(op.attrs()).setDevice(op.device());
      op.subgraphs().forEach(b::addSubgraph);
      Operation c = b.build();
      ops.put(op, c);
      for (int j = 0; j < op.numOutputs(); j++) {
        map.put(op.output(j), c.output(j));
      }
    }
  }

  /** The ops of {@code g} that {@code roots} need (through data and control inputs). */
  static Set<Operation> needed(List<Output> roots) {
    return needed(roots, Set.of());
  }

  /** As {@link #needed(List)}, not looking past the {@code stop} nodes (which count as needed). */
  static Set<Operation> needed(List<Output> roots, Set<Operation> stop) {
    Set<Operation> live = new HashSet<>();
    List<Operation> work = new ArrayList<>();
    roots.forEach(r -> work.add(r.op()));
    while (!work.isEmpty()) {
      Operation op = work.remove(work.size() - 1);
      if (live.add(op) && !stop.contains(op)) {
        op.inputs().forEach(in -> work.add(in.op()));
        work.addAll(op.controlInputs());
      }
    }
    return live;
  }
}
