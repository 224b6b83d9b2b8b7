package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;

/**
 * Batch normalization over the last (channel) axis, one fused BatchNorm node per mode (Keras's
 * {@code BatchNormalization}, channels last). While the BOOL scalar {@code training} is true, x is
 * normalized with its own batch statistics and the moving averages are updated in the same run,
 * {@code moving = momentum * moving + (1 - momentum) * batch}; while it is false, with the moving
 * averages, which stay unchanged. Creates {@code <scope>/gamma} (ones), {@code <scope>/beta} (zeros),
 * {@code <scope>/moving_mean} (zeros) and {@code <scope>/moving_variance} (ones) on first application.
 *
 * <p>Only gamma and beta are {@link #trainableVariables}: minimize over them (with the other layers'),
 * not over every variable the loss reads, which would include the moving averages.
 */
public final class BatchNorm implements Layer {
  private final int channels;
  private final Output training;
  private final double momentum;
  private final double epsilon;
  private final String name;

  private Graph graph;
  private Variable gamma;
  private Variable beta;
  private Variable movingMean;
  private Variable movingVariance;

  /** Momentum 0.99 and epsilon 0.001, as Keras. */
  public BatchNorm(int channels, Output training) {
    this(channels, training, 0.99, 1e-3, "batch_norm");
  }

  private BatchNorm(int channels, Output training, double momentum, double epsilon, String name) {
    if (channels <= 0) {
      throw new IllegalArgumentException("BatchNorm: channels must be > 0, got " + channels);
    }
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("BatchNorm: momentum must be in [0, 1), got " + momentum);
    }
    if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("BatchNorm: epsilon must be a finite number > 0, got " + epsilon);
    }
    if (training.dtype() != DType.BOOL || !training.shape().isCompatibleWith(Shape.scalar())) {
      throw new IllegalArgumentException(
          "BatchNorm: training flag '" + training.name() + "' must be a bool scalar, got " + training.type());
    }
    this.channels = channels;
    this.training = training;
    this.momentum = momentum;
    this.epsilon = epsilon;
    this.name = name;
  }

  public BatchNorm withMomentum(double m) {
    return new BatchNorm(channels, training, m, epsilon, name);
  }

  public BatchNorm withEpsilon(double e) {
    return new BatchNorm(channels, training, momentum, e, name);
  }

  public BatchNorm named(String scopeBase) {
    return new BatchNorm(channels, training, momentum, epsilon, scopeBase);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    if (training.graph() != tf.graph()) {
      throw error("training flag '" + training.name() + "' belongs to another graph");
    }
    if (!x.dtype().isFloating()) {
      throw error("input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    Shape s = x.shape();
    if (!s.hasKnownRank() || s.rank() < 2 || (s.dim(s.rank() - 1) >= 0 && s.dim(s.rank() - 1) != channels)) {
      throw error("input '" + x.name() + "' must have rank >= 2 and " + channels + " channels last, got " + s);
    }
    if (graph == null) {
      createVariables(tf, x.dtype());
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    }
    String scopeName = gamma.name().substring(0, gamma.name().lastIndexOf('/'));
    Ops scope = tf.withSubScope(scopeName.substring(scopeName.lastIndexOf('/') + 1));
    DType d = x.dtype();
    return tf.graph().atomically(() -> {
      List<Output> train = scope.batchNorm(x, gamma, beta, movingMean, movingVariance, epsilon, true);
      Output infer = scope.batchNorm(x, gamma, beta, movingMean, movingVariance, epsilon, false).get(0);
      Output keep = scope.constant(momentum, d);
      Output take = scope.constant(1 - momentum, d);
      Output newMean = scope.add(scope.mul(movingMean, keep), scope.mul(train.get(1), take));
      Output newVar = scope.add(scope.mul(movingVariance, keep), scope.mul(train.get(2), take));
      Output updateMean = scope.assign(movingMean, scope.select(training, newMean, movingMean));
      Output updateVar = scope.assign(movingVariance, scope.select(training, newVar, movingVariance));
      return scope.withControlDependencies(List.of(updateMean.op(), updateVar.op()))
          .identity(scope.select(training, train.get(0), infer));
    });
  }

  private void createVariables(Ops tf, DType d) {
    String scopeName = LayerScopes.unique(tf.graph(), name);
    Ops scope = tf.withSubScope(scopeName);
    tf.graph().atomically(() -> {
      Shape v = Shape.of(channels);
      gamma = scope.variable("gamma", scope.fill(v, scope.constant(1, d)));
      beta = scope.variable("beta", scope.fill(v, scope.constant(0, d)));
      movingMean = scope.variable("moving_mean", scope.fill(v, scope.constant(0, d)));
      movingVariance = scope.variable("moving_variance", scope.fill(v, scope.constant(1, d)));
      return null;
    });
    graph = tf.graph();
  }

  public Optional<Variable> gamma() {
    return Optional.ofNullable(gamma);
  }

  public Optional<Variable> beta() {
    return Optional.ofNullable(beta);
  }

  public Optional<Variable> movingMean() {
    return Optional.ofNullable(movingMean);
  }

  public Optional<Variable> movingVariance() {
    return Optional.ofNullable(movingVariance);
  }

  @Override
  public List<Variable> trainableVariables() {
    return gamma == null ? List.of() : List.of(gamma, beta);
  }

  private IllegalArgumentException error(String message) {
    String where = gamma != null ? gamma.name().substring(0, gamma.name().lastIndexOf('/')) : name;
    return new IllegalArgumentException("BatchNorm '" + where + "': " + message);
  }

  @Override
  public String toString() {
    return "BatchNorm(" + channels + ", momentum " + momentum + ")";
  }
}
