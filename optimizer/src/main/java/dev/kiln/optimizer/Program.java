package dev.kiln.optimizer;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.List;
import java.util.Set;

/**
 * What the optimizer rewrites: a graph together with the values a run observes — the fetched
 * outputs, the target operations, and the fed outputs (whose computed value is replaced by the feed,
 * so no pass may fold or simplify it away). Passes return a new Program over a new graph, with
 * fetches, targets and feeds mapped to their counterparts.
 */
public record Program(Graph graph, List<Output> fetches, List<Operation> targets, Set<Output> fed) {
  public Program {
    fetches = List.copyOf(fetches);
    targets = List.copyOf(targets);
    fed = Set.copyOf(fed);
    for (Output o : fetches) {
      requireIn(graph, o.op(), "fetch");
    }
    for (Operation op : targets) {
      requireIn(graph, op, "target");
    }
    for (Output o : fed) {
      requireIn(graph, o.op(), "fed value");
    }
  }

  /** A program whose roots are every node that no other node uses (the graph's sinks). */
  public static Program ofSinks(Graph graph) {
    java.util.Set<Operation> used = new java.util.HashSet<>();
    for (Operation op : graph.operations()) {
      op.inputs().forEach(in -> used.add(in.op()));
      used.addAll(op.controlInputs());
    }
    List<Operation> sinks = graph.operations().stream().filter(op -> !used.contains(op)).toList();
    List<Output> fetches = sinks.stream().flatMap(op -> op.outputs().stream()).toList();
    List<Operation> targets = sinks.stream().filter(op -> op.numOutputs() == 0).toList();
    return new Program(graph, fetches, targets, Set.of());
  }

  private static void requireIn(Graph graph, Operation op, String what) {
    if (op.graph() != graph) {
      throw new IllegalArgumentException(what + " " + op + " belongs to another graph");
    }
  }
}
