package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.nn.Reduction;
import dev.kiln.runtime.Session;
import dev.kiln.train.CheckpointException;
import dev.kiln.train.Saver;
import java.util.ArrayList;
import java.util.List;

/**
 * A worker's copy of the model and optimizer state in a local Session, at a known step. Every worker
 * applies the same summed gradients in the same order, so all replicas of a run at a step are equal.
 */
final class Replica implements AutoCloseable {
  private final StepProgram program;
  private final Session session;
  private final List<Output> feeds = new ArrayList<>();
  private final Output loss;
  private final List<Output> gradients = new ArrayList<>();
  private final List<int[]> shapes = new ArrayList<>();
  private final Operation update;
  private long step;

  private Replica(StepProgram program, Graph graph, long step) {
    this.program = program;
    this.session = new Session(graph);
    for (FeedSpec f : program.feeds()) {
      feeds.add(graph.output(f.placeholder()));
    }
    this.loss = graph.output(program.loss());
    for (int i = 0; i < program.gradients().size(); i++) {
      gradients.add(graph.output(program.gradients().get(i)));
      shapes.add(graph.output(program.variables().get(i)).shape().dims());
    }
    this.update = graph.operation(program.update());
    this.step = step;
  }

  /** A replica with the variables of {@code checkpoint}, taken after {@code step} steps. */
  static Replica restore(StepProgram program, byte[] checkpoint, long step) {
    Replica r = new Replica(program, program.parse(), step);
    try {
      Saver.restore(r.session, checkpoint, "recovery point of step " + step);
    } catch (CheckpointException e) {
      r.close();
      throw new IllegalStateException(e.getMessage(), e);
    }
    return r;
  }

  long step() {
    return step;
  }

  /** A worker's gradients, flat in parameter order and scaled by its share of the global batch. */
  record Gradients(float[] flat, double weightedLoss) {}

  /**
   * The gradients and loss on rows {@code [from, to)} of {@code data} at this replica's weights, each
   * multiplied by {@code weight}: rows/globalBatch for a mean loss, 1 for a summed one.
   */
  Gradients gradients(ExampleBlock data, int from, int to, double weight) {
    Session.Runner run = session.runner();
    for (int f = 0; f < feeds.size(); f++) {
      run.feed(feeds.get(f), data.tensor(f, from, to));
    }
    run.fetch(loss);
    gradients.forEach(run::fetch);
    List<Tensor> out = run.run();
    float[] flat = new float[program.parameterCount()];
    int at = 0;
    for (int i = 0; i < gradients.size(); i++) {
      float[] g = out.get(i + 1).toFloatArray();
      for (int k = 0; k < g.length; k++) {
        flat[at + k] = (float) (g[k] * weight);
      }
      at += g.length;
    }
    return new Gradients(flat, out.getFirst().doubleValue() * weight);
  }

  /** Applies the global batch's summed gradients (flat, parameter order): the optimizer's update. */
  void apply(float[] summed) {
    Session.Runner run = session.runner();
    int at = 0;
    for (int i = 0; i < gradients.size(); i++) {
      int[] dims = shapes.get(i);
      int n = 1;
      for (int d : dims) {
        n *= d;
      }
      float[] g = new float[n];
      System.arraycopy(summed, at, g, 0, n);
      run.feed(gradients.get(i), Tensor.of(g, dims));
      at += n;
    }
    run.addTarget(update).run();
    step++;
  }

  byte[] checkpoint() {
    return Saver.toBytes(session);
  }

  static double weight(Reduction reduction, int rows, int globalBatch) {
    return reduction == Reduction.SUM ? 1.0 : (double) rows / globalBatch;
  }

  @Override
  public void close() {
    session.close();
  }
}
