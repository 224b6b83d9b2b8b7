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
 * with the concrete input types. Both branches of a conditional must give one shape. A loop whose
 * variables change shape across iterations (within their shape invariants) gives its outputs the
 * invariants' types: the plan runs the rest of the run once the loop has given them concrete shapes.
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
    boolean changes = false;
    for (int i = 0; i < n; i++) {
      checkInvariant(op, i, inputs.get(i), next.get(i));
      changes |= !next.get(i).equals(inputs.get(i));
    }
    TensorType p = results(op.subgraphs().get(0), inputs).get(0);
    if (p.shape().numElements() != 1) {
      throw new IllegalArgumentException(op + ": the condition gives " + p + ", not a scalar");
    }
    if (changes) {
      // The trip count decides the final shapes: the loop variables leave with their invariants' types.
      if (stacked > 0 || !op.attrs().getString(ControlFlowOp.FORWARD_OF).isEmpty()) {
        throw new IllegalArgumentException(op + ": a loop variable changes shape across iterations (" + changed(op,
            inputs, next, n) + "); gradients through such a loop are not supported");
      }
      List<TensorType> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(body.parameters().get(i).type());
      }
      return out;
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

  /** Fails unless {@code next}, loop variable {@code i}'s value after an iteration from {@code current}, fits its invariant. */
  static void checkInvariant(Operation op, int i, TensorType current, TensorType next) {
    TensorType invariant = op.subgraphs().get(1).parameters().get(i).type();
    if (!next.shape().isCompatibleWith(invariant.shape())) {
      throw new IllegalArgumentException(op + ": loop variable " + i + " ('" + op.input(i).name() + "') is " + current
          + " but an iteration makes it " + next + ", which is not an instance of its shape invariant "
          + invariant.shape());
    }
  }

  private static String changed(Operation op, List<TensorType> inputs, List<TensorType> next, int n) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!next.get(i).equals(inputs.get(i))) {
        parts.add("'" + op.input(i).name() + "' " + inputs.get(i) + " -> " + next.get(i));
      }
    }
    return String.join(", ", parts);
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
