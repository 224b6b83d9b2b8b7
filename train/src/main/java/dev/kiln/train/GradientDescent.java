package dev.kiln.train;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;

/** Plain stochastic gradient descent: {@code var -= lr * grad}. No slots. */
public final class GradientDescent extends Optimizer {
  public GradientDescent(double learningRate) {
    super("gradient_descent", learningRate);
  }

  public GradientDescent(Output learningRate) {
    super("gradient_descent", learningRate);
  }

  @Override
  List<Operation> build(Ops tf, List<Output> grads, List<Variable> vars) {
    List<Operation> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Variable v = vars.get(i);
      updates.add(tf.assignSub(v, tf.mul(learningRate(tf, v.dtype()), grads.get(i))).op());
    }
    return updates;
  }
}
