package dev.kiln.runtime.exec;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-infers an operation's output types from the concrete types its inputs have in one plan. The
 * op's own inference runs on a scratch copy of the node whose inputs are placeholders of the concrete
 * types, so the rules (and the error messages, which name the real node) are the graph's.
 */
public final class ConcreteTypes {
  private ConcreteTypes() {}

  public static List<TensorType> infer(Operation op, List<TensorType> inputs) {
    if (op.def() instanceof dev.kiln.graph.ControlFlowOp) {
      return ControlFlowTypes.infer(op, inputs);
    }
    boolean same = true;
    for (int i = 0; i < inputs.size() && same; i++) {
      same = inputs.get(i).equals(op.input(i).type());
    }
    if (same && allDefined(op.outputTypes())) {
      return op.outputTypes();
    }
    Graph scratch = new Graph();
    OperationBuilder b = scratch.opBuilder(op.type(), op.name());
    for (int i = 0; i < inputs.size(); i++) {
      TensorType t = inputs.get(i);
      Output in = scratch.opBuilder("Placeholder", op.name() + "/kiln.input" + i)
          .setAttr("dtype", t.dtype()).setAttr("shape", t.shape()).build().output(0);
      b.addInput(in);
    }
    b.setAttrs(op.attrs());
    for (Subgraph s : op.subgraphs()) {
      b.addSubgraph(s);
    }
    List<TensorType> out = b.build().outputTypes();
    if (!allDefined(out)) {
      List<String> shapes = new ArrayList<>();
      out.forEach(t -> shapes.add(t.toString()));
      throw new IllegalArgumentException(op + ": output types " + shapes + " are not fully defined for inputs " + inputs);
    }
    return out;
  }

  static boolean allDefined(List<TensorType> types) {
    for (TensorType t : types) {
      if (!t.shape().isFullyDefined()) {
        return false;
      }
    }
    return true;
  }
}
