package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import dev.kiln.train.CheckpointException;
import dev.kiln.train.Saver;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of {@link SparkTrainer#fit}: one report per step run, and the trained state as checkpoint
 * bytes of the training graph (the user's graph plus gradient and optimizer nodes and slots).
 */
public record TrainingResult(List<StepReport> steps, byte[] checkpoint, String trainingGraphText) {
  public TrainingResult {
    steps = List.copyOf(steps);
  }

  /** The global batch's loss at each step run, in order. */
  public List<Double> losses() {
    return steps.stream().map(StepReport::loss).toList();
  }

  /**
   * Sets every variable of {@code target}'s graph (e.g. the graph given to the trainer, or an inference
   * graph sharing its variable names) to its trained value; fails naming a variable the training graph
   * lacks or whose shape or dtype differs, changing nothing.
   */
  public void restoreInto(Session target) throws CheckpointException {
    Graph g = Graph.parse(trainingGraphText, "spark-training-graph");
    Map<String, Tensor> trained = new LinkedHashMap<>();
    try (Session s = new Session(g)) {
      Saver.restore(s, checkpoint, "trained model");
      s.variableValues(g.variables()).forEach((v, t) -> trained.put(v.name(), t));
    }
    Map<Variable, Tensor> values = new LinkedHashMap<>();
    for (Variable v : target.graph().variables()) {
      Tensor t = trained.get(v.name());
      if (t == null) {
        throw new CheckpointException("the trained model has no variable '" + v.name() + "'");
      }
      if (t.dtype() != v.dtype() || !t.shape().equals(v.shape())) {
        throw new CheckpointException("variable '" + v.name() + "' is " + v.type() + " in the graph but "
            + t.type() + " in the trained model");
      }
      values.put(v, t);
    }
    target.assignVariables(values);
  }
}
