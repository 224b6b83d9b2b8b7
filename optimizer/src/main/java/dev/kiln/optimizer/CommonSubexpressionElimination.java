package dev.kiln.optimizer;

import dev.kiln.graph.Attrs;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Subgraph;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Common-subexpression elimination: of several nodes with the same op type, the same inputs (after
 * merging their inputs), the same attributes, control inputs, subgraphs and device, only the first
 * stays and the others' uses go to it. Guarantees: never merges a stateful op (variables, assigns,
 * random draws), a Placeholder or Parameter (their values come from feeds), a node with no outputs,
 * or a fed value; constants over 4,096 elements are not compared. Nodes that compute the same thing
 * from the same ancestors have the same value and the same ordering constraints, so fetches and
 * effects are unchanged. A two-input COMMUTATIVE op matches with its inputs swapped (exact in IEEE
 * arithmetic); AddN keeps its order (float sums are not associative).
 */
public final class CommonSubexpressionElimination implements Pass {
  /** A pass with no state of its own; the {@link PassManager} runs it. */
  public CommonSubexpressionElimination() {}

  /** Constants bigger than this are not compared: hashing them costs more than merging them saves. */
  static final int MAX_COMPARED_CONSTANT = 4096;

  @Override
  public String name() {
    return "cse";
  }

  /** What makes two nodes compute the same value. */
  private record Key(String type, List<Output> inputs, Attrs attrs, Set<Integer> controlInputs,
      List<String> subgraphs, String device) {}

  @Override
  public Program run(Program program, PassStatistics stats) {
    Program p = LoopCopies.merge(program, stats);
    Map<Subgraph, String> bodies = new HashMap<>();
    // A dry run on the program as it is: merges start with two equal nodes of the source, so if it
    // has none the graph is not rebuilt.
    Set<Key> keys = new HashSet<>();
    if (p.graph().operations().stream().noneMatch(op -> eligible(op, p) && !keys.add(key(o -> o, c -> c, op, bodies)))) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    Map<Key, Operation> seen = new HashMap<>();
    int merged = 0;
    for (Operation op : p.graph().operations()) {
      if (!eligible(op, p)) {
        rw.copy(op);
        continue;
      }
      Key key = key(rw::map, rw::map, op, bodies);
      Operation first = seen.get(key);
      if (first != null) {
        rw.replace(op, first.outputs(), first);
        merged++;
      } else {
        seen.put(key, rw.copy(op));
      }
    }
    if (merged == 0) {
      return p;
    }
    stats.add("nodes merged", merged);
    return Prune.removeDead(rw.finish(), stats);
  }

  private static boolean eligible(Operation op, Program p) {
    if (op.isStateful() || op.numOutputs() == 0) {
      return false;
    }
    if (op.type().equals("Placeholder") || op.type().equals("Parameter")) {
      return false;
    }
    if (op.type().equals("Const") && op.attrs().getTensor("value").size() > MAX_COMPARED_CONSTANT) {
      return false;
    }
    return op.outputs().stream().noneMatch(p.fed()::contains);
  }

  /** The node's key with its inputs and control inputs as {@code mapValue} and {@code mapOp} map them. */
  private static Key key(UnaryOperator<Output> mapValue, UnaryOperator<Operation> mapOp, Operation op,
      Map<Subgraph, String> bodies) {
    List<Output> inputs = new ArrayList<>(op.numInputs());
    for (Output in : op.inputs()) {
      inputs.add(mapValue.apply(in));
    }
    if (op.numInputs() == 2 && op.def().traits().contains(OpTrait.COMMUTATIVE)) {
      inputs.sort(Comparator.comparingInt((Output o) -> o.op().id()).thenComparingInt(Output::index));
    }
    Set<Integer> control = new TreeSet<>();
    for (Operation c : op.controlInputs()) {
      control.add(mapOp.apply(c).id());
    }
    List<String> subgraphs = new ArrayList<>();
    for (Subgraph s : op.subgraphs()) {
      subgraphs.add(bodies.computeIfAbsent(s, CommonSubexpressionElimination::describe));
    }
    return new Key(op.type(), List.copyOf(inputs), op.attrs(), control, subgraphs, op.device());
  }

  /** A body's structure as text: its nodes, then which outputs are parameters and results. */
  private static String describe(Subgraph s) {
    return s.graph().toText() + s.parameters().stream().map(Output::name).toList()
        + s.results().stream().map(Output::name).toList();
  }
}
