package dev.kiln.runtime.plan;

import dev.kiln.runtime.Session;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/** Which nodes a run needs: those its fetches and targets reach through read inputs and control inputs, stopping at fed values. */
final class Pruning {
  private Pruning() {}

  /** The ops that the fetches and targets need, in creation order; fails naming an unfed placeholder. */
  static List<Operation> neededOps(Set<Output> fed, List<Output> fetches, List<Operation> targets) {
    BitSet seen = new BitSet();
    List<Operation> needed = new ArrayList<>();
    List<Operation> work = new ArrayList<>();
    for (Output f : fetches) {
      if (!fed.contains(f)) {
        visit(f.op(), seen, needed, work);
      }
    }
    for (Operation t : targets) {
      visit(t, seen, needed, work);
    }
    Operation missing = null;
    while (!work.isEmpty()) {
      Operation op = work.remove(work.size() - 1);
      switch (op.type()) {
        case "Placeholder" -> {
          if (missing == null || op.id() < missing.id()) {
            missing = op;
          }
        }
        case "Parameter" -> throw new IllegalArgumentException(
            "Parameter '" + op.name() + "': a Parameter stands for a subgraph argument and cannot run in a Session");
        default -> {}
      }
      for (int i = 0; i < op.numInputs(); i++) {
        if (op.def().readsInput(i) && !fed.contains(op.input(i))) {
          visit(op.input(i).op(), seen, needed, work);
        }
      }
      for (Operation c : op.controlInputs()) {
        visit(c, seen, needed, work);
      }
    }
    if (missing != null) {
      throw new IllegalArgumentException("Placeholder '" + missing.name() + "': no value fed for "
          + missing.outputType(0) + " (the run needs it)");
    }
    needed.sort(Comparator.comparingInt(Operation::id));
    return needed;
  }

  private static void visit(Operation op, BitSet seen, List<Operation> needed, List<Operation> work) {
    if (!seen.get(op.id())) {
      seen.set(op.id());
      needed.add(op);
      work.add(op);
    }
  }
}
