package dev.kiln.graph;

import java.util.List;

/**
 * A body owned by an operation (a function body, a fused node's expression): its own graph, the
 * Parameter outputs that stand for its arguments, and the outputs it returns.
 */
public record Subgraph(Graph graph, List<Output> parameters, List<Output> results) {
  public Subgraph {
    parameters = List.copyOf(parameters);
    results = List.copyOf(results);
    for (Output o : parameters) {
      if (o.graph() != graph || !o.op().type().equals("Parameter")) {
        throw new IllegalArgumentException("subgraph parameter " + o + " is not a Parameter of its graph");
      }
    }
    for (Output o : results) {
      if (o.graph() != graph) {
        throw new IllegalArgumentException("subgraph result " + o + " belongs to another graph");
      }
    }
  }
}
