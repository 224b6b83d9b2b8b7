package dev.kiln.train;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;

/**
 * SGD with momentum, as PyTorch's {@code SGD(momentum=mu, nesterov=...)} (and, for a constant learning
 * rate, TensorFlow's {@code MomentumOptimizer}): with a slot {@code buf} starting at zero,
 * <pre>
 *   buf = mu * buf + grad
 *   var -= lr * buf                    (classical)
 *   var -= lr * (grad + mu * buf)      (Nesterov)
 * </pre>
 */
public final class Momentum extends Optimizer {
  private final double momentum;
  private final boolean nesterov;

  public Momentum(double learningRate, double momentum, boolean nesterov) {
    super("momentum", learningRate);
    this.momentum = checkMomentum(momentum);
    this.nesterov = nesterov;
  }

  public Momentum(Output learningRate, double momentum, boolean nesterov) {
    super("momentum", learningRate);
    this.momentum = checkMomentum(momentum);
    this.nesterov = nesterov;
  }

  private static double checkMomentum(double m) {
    if (!(m >= 0 && m < 1)) {
      throw new IllegalArgumentException("momentum: momentum must be in [0, 1), got " + m);
    }
    return m;
  }

  @Override
  List<Operation> build(Ops tf, List<Output> grads, List<Variable> vars) {
    List<Operation> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Variable v = vars.get(i);
      Output g = grads.get(i);
      Output mu = scalar(tf, momentum, v.dtype());
      Variable buf = slot(tf, v, "momentum");
      Output newBuf = tf.assign(buf, tf.add(tf.mul(mu, buf), g));
      Output step = nesterov ? tf.add(g, tf.mul(mu, newBuf)) : newBuf;
      updates.add(tf.assignSub(v, tf.mul(learningRate(tf, v.dtype()), step)).op());
    }
    return updates;
  }
}
