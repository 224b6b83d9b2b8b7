package dev.kiln.optimizer;

import dev.kiln.graph.Operation;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which assigns each node of a program is ordered after: the Assign, AssignAdd and AssignSub nodes
 * from which a path of edges a runtime orders by (inputs the node reads, control inputs) reaches it.
 * A read of a variable sees an assign's value exactly when that assign is among them. Merging nodes
 * into one (fusion) orders every consumer of the merged node after the assigns of all its parts; if
 * the parts are ordered after the same assigns, the merged node is too and no read changes meaning
 * (by induction over the merged graph), else a read elsewhere may silently see a new value.
 */
final class AssignOrder {
  private static final BitSet NONE = new BitSet();

  private final Map<Operation, BitSet> after;

  private AssignOrder(Map<Operation, BitSet> after) {
    this.after = after;
  }

  /** {@code ops} in a topological order (a graph's creation order is one). */
  static AssignOrder of(List<Operation> ops) {
    Map<Operation, BitSet> after = new HashMap<>();
    int assigns = 0;
    for (Operation op : ops) {
      BitSet set = NONE;
      for (Operation pred : orderingPreds(op)) {
        BitSet p = after.getOrDefault(pred, NONE);
        if (set.isEmpty()) {
          set = p; // shared, never modified: most nodes follow no assign or their producer's
        } else if (p != set && !p.isEmpty()) {
          set = union(set, p);
        }
      }
      if (op.type().startsWith("Assign")) {
        set = union(set, NONE);
        set.set(assigns++);
      }
      after.put(op, set);
    }
    return new AssignOrder(after);
  }

  /** Whether both nodes are ordered after exactly the same assigns. */
  boolean sameAssigns(Operation a, Operation b) {
    return after.getOrDefault(a, NONE).equals(after.getOrDefault(b, NONE));
  }

  private static BitSet union(BitSet a, BitSet b) {
    BitSet u = (BitSet) a.clone();
    u.or(b);
    return u;
  }

  /** The nodes {@code op} runs after: producers of the inputs it reads, and its control inputs. */
  private static List<Operation> orderingPreds(Operation op) {
    List<Operation> ps = new ArrayList<>(op.numInputs() + op.controlInputs().size());
    for (int i = 0; i < op.numInputs(); i++) {
      if (op.def().readsInput(i)) {
        ps.add(op.input(i).op());
      }
    }
    ps.addAll(op.controlInputs());
    return ps;
  }
}
