package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.OptionalLong;

/**
 * Inverted dropout: while the BOOL scalar {@code training} is true, each element is zeroed with
 * probability {@code rate} and the survivors are scaled by 1 / (1 - rate), so that evaluation (flag
 * false) is the identity and needs no rescaling. The mask comes from a RandomUniform node, which draws
 * fresh values on every run.
 *
 * <p>RandomUniform has a static shape, so the input's shape must be fully defined (a placeholder with a
 * fixed batch size).
 */
public final class Dropout implements Layer {
  private final double rate;
  private final Output training;
  private final OptionalLong seed;

  /** @param training a BOOL scalar, typically from {@link #trainingFlag(Ops)}, fed true while training */
  public Dropout(double rate, Output training) {
    this(rate, training, OptionalLong.empty());
  }

  private Dropout(double rate, Output training, OptionalLong seed) {
    if (!(rate >= 0 && rate < 1)) {
      throw new IllegalArgumentException("Dropout: rate must be in [0, 1), got " + rate);
    }
    if (training.dtype() != DType.BOOL || !training.shape().isCompatibleWith(Shape.scalar())) {
      throw new IllegalArgumentException(
          "Dropout: training flag '" + training.name() + "' must be a bool scalar, got " + training.type());
    }
    this.rate = rate;
    this.training = training;
    this.seed = seed;
  }

  /** A BOOL scalar placeholder named {@code name} to feed as the training flag. */
  public static Output trainingFlag(Ops tf, String name) {
    return tf.placeholder(name, DType.BOOL, Shape.scalar());
  }

  public Dropout withSeed(long s) {
    return new Dropout(rate, training, OptionalLong.of(s));
  }

  public double rate() {
    return rate;
  }

  @Override
  public Output apply(Ops tf, Output x) {
    if (training.graph() != tf.graph()) {
      throw new IllegalArgumentException(
          "Dropout: training flag '" + training.name() + "' belongs to another graph");
    }
    if (!x.dtype().isFloating()) {
      throw new IllegalArgumentException(
          "Dropout: input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (!x.shape().isFullyDefined()) {
      throw new IllegalArgumentException("Dropout: input '" + x.name() + "' has shape " + x.shape()
          + "; the random mask needs a fully defined shape (give the placeholder a fixed batch size)");
    }
    String scopeName = LayerScopes.unique(tf.graph(), "dropout");
    Ops scope = tf.withSubScope(scopeName);
    DType d = x.dtype();
    Output u = scope.randomUniform(x.shape(), d, seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName)));
    // keep with probability 1 - rate: u in [0, 1) is >= rate with exactly that probability
    Output keep = scope.cast(scope.greaterEqual(u, scope.constant(rate, d)), d);
    Output dropped = scope.mul(x, scope.mul(keep, scope.constant(1 / (1 - rate), d)));
    return scope.select(training, dropped, x);
  }
}
