package dev.kiln.cuda;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.optimizer.Program;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The order a CUDA plan runs a placed program in. Ready nodes that are not assigns go first, so a
 * read that no path orders after an assign sees the variable's value from before the run (the CPU
 * Session's rule), and the SGD updates of a training step run after every gradient.
 */
final class RunOrder {
  private RunOrder() {}

  /** The nodes a run executes, in order: needed nodes only, assigns as late as their users allow. */
  static List<Operation> of(Program p, Set<Output> fed) {
    Set<Operation> fedOps = new HashSet<>();
    fed.forEach(o -> fedOps.add(o.op()));
    Set<Operation> needed = new LinkedHashSet<>();
    ArrayDeque<Operation> work = new ArrayDeque<>();
    p.fetches().forEach(f -> work.push(f.op()));
    p.targets().forEach(work::push);
    while (!work.isEmpty()) {
      Operation op = work.pop();
      if (!needed.add(op)) {
        continue;
      }
      op.controlInputs().forEach(work::push);
      if (fedOps.contains(op)) {
        continue;
      }
      for (int i = 0; i < op.numInputs(); i++) {
        if (op.def().readsInput(i) || CudaPlan.isAssign(op)) {
          work.push(op.input(i).op());
        }
      }
    }
    // Kahn's algorithm; ready non-assigns go first, so a read not ordered after an assign sees
    // the value from before the run (the CPU Session's rule).
    Map<Operation, Integer> indegree = new HashMap<>();
    Map<Operation, List<Operation>> users = new HashMap<>();
    for (Operation op : needed) {
      Set<Operation> deps = new LinkedHashSet<>(op.controlInputs());
      if (!fedOps.contains(op)) {
        for (int i = 0; i < op.numInputs(); i++) {
          if (needed.contains(op.input(i).op()) && (op.def().readsInput(i) || CudaPlan.isAssign(op))) {
            deps.add(op.input(i).op());
          }
        }
      }
      deps.retainAll(needed);
      indegree.put(op, deps.size());
      deps.forEach(d -> users.computeIfAbsent(d, k -> new ArrayList<>()).add(op));
    }
    ArrayDeque<Operation> ready = new ArrayDeque<>();
    ArrayDeque<Operation> readyAssigns = new ArrayDeque<>();
    for (Operation op : needed) {
      if (indegree.get(op) == 0) {
        (CudaPlan.isAssign(op) ? readyAssigns : ready).add(op);
      }
    }
    List<Operation> order = new ArrayList<>();
    while (!ready.isEmpty() || !readyAssigns.isEmpty()) {
      Operation op = !ready.isEmpty() ? ready.poll() : readyAssigns.poll();
      order.add(op);
      for (Operation u : users.getOrDefault(op, List.of())) {
        if (indegree.merge(u, -1, Integer::sum) == 0) {
          (CudaPlan.isAssign(u) ? readyAssigns : ready).add(u);
        }
      }
    }
    return order;
  }
}
