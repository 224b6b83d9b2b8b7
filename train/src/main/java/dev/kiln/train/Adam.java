package dev.kiln.train;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Adam (Kingma and Ba, 2015), exactly as PyTorch's {@code torch.optim.Adam}: with slots m and v starting
 * at zero and a step count t (an i64 slot {@code <scope>/step}, incremented before use, so the first
 * step has t = 1),
 * <pre>
 *   m = beta1 * m + (1 - beta1) * grad
 *   v = beta2 * v + (1 - beta2) * grad^2
 *   m_hat = m / (1 - beta1^t)
 *   v_hat = v / (1 - beta2^t)
 *   var -= lr * m_hat / (sqrt(v_hat) + epsilon)
 * </pre>
 * Epsilon is added after the square root of the bias-corrected v (Algorithm 1 of the paper, PyTorch);
 * the graph computes it as PyTorch does, {@code var -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t)
 * + epsilon)}, which is the same value with fewer passes over the elements.
 * TensorFlow 1.x instead folds the correction into the learning rate and adds epsilon to sqrt(v)
 * uncorrected, which differs from this in the first steps when epsilon matters.
 */
public final class Adam extends Optimizer {
  private final double beta1;
  private final double beta2;
  private final double epsilon;

  /** Adam with beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8. */
  public Adam(double learningRate) {
    this(learningRate, 0.9, 0.999, 1e-8);
  }

  public Adam(double learningRate, double beta1, double beta2, double epsilon) {
    super("adam", learningRate);
    this.beta1 = checkBeta("beta1", beta1);
    this.beta2 = checkBeta("beta2", beta2);
    this.epsilon = checkEpsilon(epsilon);
  }

  public Adam(Output learningRate) {
    this(learningRate, 0.9, 0.999, 1e-8);
  }

  public Adam(Output learningRate, double beta1, double beta2, double epsilon) {
    super("adam", learningRate);
    this.beta1 = checkBeta("beta1", beta1);
    this.beta2 = checkBeta("beta2", beta2);
    this.epsilon = checkEpsilon(epsilon);
  }

  private static double checkBeta(String what, double b) {
    if (!(b >= 0 && b < 1)) {
      throw new IllegalArgumentException("adam: " + what + " must be in [0, 1), got " + b);
    }
    return b;
  }

  static double checkEpsilon(double e) {
    if (!(e >= 0) || Double.isInfinite(e)) {
      throw new IllegalArgumentException("epsilon must be a number >= 0, got " + e);
    }
    return e;
  }

  @Override
  List<Operation> build(Ops tf, List<Output> grads, List<Variable> vars) {
    Variable step = tf.variable("step", tf.constant(Tensor.scalar(0L)));
    Output t = tf.assignAdd(step, tf.constant(1L));
    // Scalars shared by all variables of a dtype, arranged as PyTorch does: lr / (1 - beta1^t) and
    // sqrt(1 - beta2^t), so that each element costs sqrt(v) / sqrt(bc2) + eps and one multiply-divide.
    Map<DType, Output[]> scalars = new EnumMap<>(DType.class);
    List<Operation> updates = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      Variable var = vars.get(i);
      Output g = grads.get(i);
      DType d = var.dtype();
      Output[] c = scalars.computeIfAbsent(d, k -> {
        Output tk = tf.cast(t, k);
        Output one = scalar(tf, 1, k);
        Output bc1 = tf.sub(one, tf.pow(scalar(tf, beta1, k), tk));
        Output bc2 = tf.sub(one, tf.pow(scalar(tf, beta2, k), tk));
        return new Output[] {tf.div(learningRate(tf, k), bc1), tf.sqrt(bc2)};
      });
      Variable m = slot(tf, var, "m");
      Variable v = slot(tf, var, "v");
      // The step reads the new moments' values, not the assigns' outputs, so that the fusion pass can
      // compute both moments and the step in one pass over the elements.
      Output newM = tf.add(tf.mul(scalar(tf, beta1, d), m), tf.mul(scalar(tf, 1 - beta1, d), g));
      Output newV = tf.add(tf.mul(scalar(tf, beta2, d), v), tf.mul(scalar(tf, 1 - beta2, d), tf.square(g)));
      Output denom = tf.add(tf.div(tf.sqrt(newV), c[1]), scalar(tf, epsilon, d));
      Output delta = tf.div(tf.mul(c[0], newM), denom);
      updates.add(tf.assign(m, newM).op());
      updates.add(tf.assign(v, newV).op());
      updates.add(tf.assignSub(var, delta).op());
    }
    return updates;
  }
}
