package dev.kiln.train;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;

/**
 * RMSProp as PyTorch's {@code torch.optim.RMSprop} (uncentered, no momentum): with a slot
 * {@code square_avg} starting at zero,
 * <pre>
 *   square_avg = decay * square_avg + (1 - decay) * grad^2
 *   var -= lr * grad / (sqrt(square_avg) + epsilon)
 * </pre>
 * Defaults are PyTorch's: decay (alpha) 0.99, epsilon 1e-8, added outside the square root.
 */
public final class RMSProp extends Optimizer {
  private final double decay;
  private final double epsilon;

  public RMSProp(double learningRate) {
    this(learningRate, 0.99, 1e-8);
  }

  public RMSProp(double learningRate, double decay, double epsilon) {
    super("rmsprop", learningRate);
    this.decay = checkDecay(decay);
    this.epsilon = Adam.checkEpsilon(epsilon);
  }

  public RMSProp(Output learningRate, double decay, double epsilon) {
    super("rmsprop", learningRate);
    this.decay = checkDecay(decay);
    this.epsilon = Adam.checkEpsilon(epsilon);
  }

  private static double checkDecay(double d) {
    if (!(d >= 0 && d < 1)) {
      throw new IllegalArgumentException("rmsprop: decay must be in [0, 1), got " + d);
    }
    return d;
  }

  @Override
  List<Operation> build(Ops tf, List<Output> grads, List<Variable> vars) {
    List<Operation> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Variable var = vars.get(i);
      Output g = grads.get(i);
      Variable avg = slot(tf, var, "square_avg");
      Output newAvg = tf.assign(avg, tf.add(tf.mul(scalar(tf, decay, var.dtype()), avg),
          tf.mul(scalar(tf, 1 - decay, var.dtype()), tf.square(g))));
      Output denom = tf.add(tf.sqrt(newAvg), scalar(tf, epsilon, var.dtype()));
      updates.add(tf.assignSub(var, tf.div(tf.mul(learningRate(tf, var.dtype()), g), denom)).op());
    }
    return updates;
  }
}
