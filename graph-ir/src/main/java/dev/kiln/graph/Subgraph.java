package dev.kiln.graph;

import java.util.List;

/**
 * A body owned by an operation (a function body, a fused node's expression): its own graph, the
 * Parameter outputs that stand for its arguments, and the outputs it returns.
 */
public record Subgraph(Graph graph, List<Output> parameters, List<Output> results) {
  public Subgraph {
    java.util.Objects.requireNonNull(graph, "Subgraph: graph is null");
    parameters = List.copyOf(java.util.Objects.requireNonNull(parameters, "Subgraph: parameters is null"));
    results = List.copyOf(java.util.Objects.requireNonNull(results, "Subgraph: results is null"));
    for (Output o : parameters) {
      if (o.graph() != graph || !o.op().type().equals("Parameter")) {
        throw new IllegalArgumentException("subgraph parameter " + o + " is not a Parameter of its graph");
      }
      graph.requireContains(o.op(), () -> "subgraph parameter " + o);
    }
    for (Output o : results) {
      graph.requireContains(o.op(), () -> "subgraph result " + o);
    }
  }
}
