package dev.kiln.spark;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import dev.kiln.nn.Reduction;
import dev.kiln.runtime.Session;
import dev.kiln.train.Optimizer;
import dev.kiln.train.Saver;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the training graph on the driver from a copy of the user's graph (which stays as it was): the
 * gradients of the loss with respect to every float variable the loss reads, the optimizer's update
 * applying gradients that workers feed in place of the computed ones, and an initializer run once to
 * give the initial checkpoint.
 */
final class TrainingGraph {
  private TrainingGraph() {}

  record Built(StepProgram program, byte[] initialCheckpoint) {}

  static Built build(Graph userGraph, Output userLoss, Optimizer optimizer, List<Feed> feeds, Reduction reduction) {
    if (!userGraph.contains(userLoss.op())) {
      throw new IllegalArgumentException("SparkTrainer: loss '" + userLoss.name() + "' is not a node of the given graph");
    }
    Graph g = Graph.parse(userGraph.toText(), "spark-training-graph");
    Output loss = g.output(userLoss.name());
    if (loss.dtype() != DType.FLOAT32 || loss.shape().rank() != 0) {
      throw new IllegalArgumentException("SparkTrainer: loss '" + loss.name() + "' must be an f32 scalar, got "
          + loss.type());
    }
    List<FeedSpec> specs = feeds.stream().map(f -> FeedSpec.resolve(g, f)).toList();
    List<Variable> vars = variablesRead(loss);
    if (vars.isEmpty()) {
      throw new IllegalArgumentException("SparkTrainer: loss '" + loss.name() + "' reads no float variable");
    }
    long count = 0;
    for (Variable v : vars) {
      if (v.dtype() != DType.FLOAT32) {
        throw new IllegalArgumentException("SparkTrainer: variable '" + v.name() + "' is " + v.dtype().shortName()
            + "; only f32 variables are trained on Spark");
      }
      count += v.shape().numElements();
    }
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("SparkTrainer: " + count + " parameters; at most 2^31 - 9 are supported");
    }
    Ops tf = Ops.create(g);
    List<Output> grads = tf.gradients(loss, List.<Output>copyOf(vars));
    Operation update = optimizer.applyGradients(grads, vars);
    Operation init = tf.globalVariablesInitializer();
    byte[] initial;
    try (Session s = new Session(g)) {
      s.run(init);
      initial = Saver.toBytes(s);
    }
    StepProgram p = new StepProgram(g.toText(), specs, loss.name(), vars.stream().map(Variable::name).toList(),
        grads.stream().map(Output::name).toList(), update.name(), reduction, (int) count);
    return new Built(p, initial);
  }

  /** The float variables {@code loss} reads as values (not through an initial value or an assign's target). */
  static List<Variable> variablesRead(Output loss) {
    BitSet visited = new BitSet();
    Set<Operation> reached = new HashSet<>();
    List<Operation> stack = new ArrayList<>(List.of(loss.op()));
    while (!stack.isEmpty()) {
      Operation op = stack.removeLast();
      if (visited.get(op.id())) {
        continue;
      }
      visited.set(op.id());
      reached.add(op);
      for (int i = 0; i < op.numInputs(); i++) {
        if (op.def().readsInput(i)) {
          stack.add(op.input(i).op());
        }
      }
    }
    return loss.graph().variables().stream().filter(v -> reached.contains(v.op()) && v.dtype().isFloating()).toList();
  }
}
