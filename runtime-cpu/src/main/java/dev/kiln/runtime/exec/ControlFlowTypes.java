package dev.kiln.runtime.exec;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Concrete output types of If and While nodes for one plan: their bodies re-inferred node by node
 * with the concrete input types. A plan's buffers have one size, so a loop variable must keep its
 * concrete shape across iterations and both branches of a conditional must give one shape.
 */
final class ControlFlowTypes {
  private ControlFlowTypes() {}

  static List<TensorType> infer(Operation op, List<TensorType> inputs) {
    return switch ((ControlFlowOp) op.def()) {
      case ControlFlowOp.Cond c -> cond(op, inputs);
      case ControlFlowOp.While w -> whileLoop(op, inputs);
    };
  }

  private static List<TensorType> cond(Operation op, List<TensorType> inputs) {
    List<TensorType> captures = inputs.subList(1, inputs.size());
    List<TensorType> a = results(op.subgraphs().get(0), captures);
    List<TensorType> b = results(op.subgraphs().get(1), captures);
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).equals(b.get(i))) {
        throw new IllegalArgumentException(op + ": result " + i + " is " + a.get(i) + " in the then branch but "
            + b.get(i) + " in the else branch for inputs " + inputs + "; the CPU runtime needs one concrete shape");
      }
    }
    return a;
  }

  private static List<TensorType> whileLoop(Operation op, List<TensorType> inputs) {
    Subgraph body = op.subgraphs().get(1);
    int stacked = (int) op.attrs().getLong(ControlFlowOp.NUM_STACKED);
    int n = body.results().size() - stacked;
    List<TensorType> next = results(body, inputs);
    for (int i = 0; i < n; i++) {
      if (!next.get(i).equals(inputs.get(i))) {
        throw new IllegalArgumentException(op + ": loop variable " + i + " ('" + op.input(i).name() + "') is "
            + inputs.get(i) + " on entry but the body makes it " + next.get(i)
            + "; the CPU runtime runs loops whose variables keep their concrete shape");
      }
    }
    TensorType p = results(op.subgraphs().get(0), inputs).get(0);
    if (p.shape().numElements() != 1) {
      throw new IllegalArgumentException(op + ": the condition gives " + p + ", not a scalar");
    }
    List<TensorType> out = new ArrayList<>(inputs.subList(0, n));
    for (int i = n; i < n + stacked; i++) {
      TensorType t = next.get(i);
      int[] dims = new int[t.shape().rank() + 1];
      dims[0] = -1;
      System.arraycopy(t.shape().dims(), 0, dims, 1, t.shape().rank());
      out.add(new TensorType(t.dtype(), dev.kiln.graph.Shape.of(dims)));
    }
    return out;
  }

  /** The concrete types of {@code body}'s results when its parameters have {@code params}' types. */
  static List<TensorType> results(Subgraph body, List<TensorType> params) {
    Map<Output, TensorType> types = new HashMap<>();
    for (int i = 0; i < params.size(); i++) {
      types.put(body.parameters().get(i), params.get(i));
    }
    for (Operation op : body.graph().operations()) {
      if (op.numOutputs() > 0 && types.containsKey(op.output(0))) {
        continue;
      }
      List<TensorType> out = switch (op.type()) {
        case "Parameter", "Const", "RandomNormal", "RandomUniform", "NoOp" -> op.outputTypes();
        default -> {
          List<TensorType> in = new ArrayList<>(op.numInputs());
          for (int i = 0; i < op.numInputs(); i++) {
            in.add(op.def().readsInput(i) ? types.get(op.input(i)) : op.input(i).type());
          }
          yield ConcreteTypes.infer(op, in);
        }
      };
      for (int j = 0; j < out.size(); j++) {
        types.put(op.output(j), out.get(j));
      }
    }
    List<TensorType> out = new ArrayList<>();
    for (Output r : body.results()) {
      out.add(types.get(r));
    }
    return out;
  }
}
