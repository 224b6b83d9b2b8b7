package dev.kiln.optimizer;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lets a loop's gradient copy ({@link ControlFlowOp#FORWARD_OF}) compute the forward loop's values
 * too: the copy has the loop's inputs plus its iteration counter's initial constant, and the same
 * body, so the loop's uses go to the copy's first outputs and the loop runs once per step instead of
 * twice. Part of {@code cse}: both compute the same values from the same inputs.
 */
final class LoopCopies {
  private LoopCopies() {}

  static Program merge(Program p, PassStatistics stats) {
    Map<Operation, Operation> copyOf = new HashMap<>();
    for (Operation op : p.graph().operations()) {
      if (op.def() instanceof ControlFlowOp.While && !op.attrs().getString(ControlFlowOp.FORWARD_OF).isEmpty()) {
        p.graph().findOperation(op.attrs().getString(ControlFlowOp.FORWARD_OF))
            .filter(w -> matches(w, op, p))
            .ifPresent(w -> copyOf.putIfAbsent(w, op));
      }
    }
    if (copyOf.isEmpty()) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    for (Operation op : p.graph().operations()) {
      if (rw.isMapped(op)) {
        continue;
      }
      Operation copy = copyOf.get(op);
      if (copy == null) {
        rw.copy(op);
        continue;
      }
      // The copy's counter constant comes after the loop in the source order: build it first.
      Operation counter = copy.input(op.numOutputs()).op();
      if (!rw.isMapped(counter)) {
        rw.copy(counter);
      }
      Operation built = rw.copy(copy);
      rw.replace(op, built.outputs().subList(0, op.numOutputs()), built);
    }
    stats.add("loops merged with their gradient copy", copyOf.size());
    return Prune.removeDead(rw.finish(), stats);
  }

  /** Whether {@code copy}'s inputs are {@code loop}'s with one constant (the counter) after the loop values. */
  private static boolean matches(Operation loop, Operation copy, Program p) {
    if (!(loop.def() instanceof ControlFlowOp.While) || loop.attrs().getLong(ControlFlowOp.NUM_STACKED) != 0) {
      return false;
    }
    int n = loop.numOutputs();
    if (copy.numInputs() != loop.numInputs() + 1 || !copy.controlInputs().isEmpty() || !loop.controlInputs().isEmpty()) {
      return false;
    }
    for (int i = 0; i < loop.numInputs(); i++) {
      if (copy.input(i < n ? i : i + 1) != loop.input(i)) {
        return false;
      }
    }
    Operation counter = copy.input(n).op();
    List<Output> outs = loop.outputs();
    return counter.type().equals("Const") && counter.numInputs() == 0 && counter.controlInputs().isEmpty()
        && outs.stream().noneMatch(p.fed()::contains) && copy.outputs().stream().noneMatch(p.fed()::contains);
  }
}
