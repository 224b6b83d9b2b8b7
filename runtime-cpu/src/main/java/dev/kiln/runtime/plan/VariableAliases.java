package dev.kiln.runtime.plan;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.Set;

/** Which variable's storage a value aliases: a variable read, an Assign output, or a view of one. */
public final class VariableAliases {
  private final Set<Output> fed;
  private final Set<Operation> snapshots;
  private final PlanRules rules;

  /** Aliases in a run with {@code fed} values and variables read through {@code snapshots}, under a device's {@code rules}. */
  public VariableAliases(Set<Output> fed, Set<Operation> snapshots, PlanRules rules) {
    this.fed = fed;
    this.snapshots = snapshots;
    this.rules = rules;
  }

  /** The variable whose storage {@code o} is, or null. */
  public Operation variableOf(Output o) {
    while (true) {
      if (fed.contains(o)) {
        // Inside a body, a Parameter capturing a variable is that variable's storage.
        return ControlFlowOp.isCapturedVariable(o) ? o.op() : null;
      }
      Operation op = o.op();
      if (op.type().equals("Variable")) {
        return snapshots.contains(op) ? null : op; // a snapshot is a private copy
      }
      if (Schedule.isAssign(op)) {
        return op.input(0).op();
      }
      if (!rules.isView(op)) {
        return null;
      }
      o = op.input(0);
    }
  }

  /** True when the alias chain ends at the variable read itself rather than at an Assign. */
  boolean readsPreRunValue(Output o) {
    while (rules.isView(o.op()) && !fed.contains(o)) {
      o = o.op().input(0);
    }
    return o.op().type().equals("Variable") || (fed.contains(o) && ControlFlowOp.isCapturedVariable(o));
  }
}
