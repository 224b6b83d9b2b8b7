package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.nn.Reduction;
import java.io.Serializable;
import java.util.List;

/**
 * What every worker runs, as plain data: the training graph in Kiln's text format (the user's graph with
 * gradient and update nodes added), the names of the fed placeholders, the loss, the gradients and the
 * update that applies gradients fed in place of the computed ones, and the trained variables in the
 * order of the flat parameter vector.
 */
record StepProgram(String graphText, List<FeedSpec> feeds, String loss, List<String> variables,
    List<String> gradients, String update, Reduction reduction, int parameterCount) implements Serializable {
  StepProgram {
    feeds = List.copyOf(feeds);
    variables = List.copyOf(variables);
    gradients = List.copyOf(gradients);
  }

  Graph parse() {
    return Graph.parse(graphText, "spark-training-graph");
  }
}
