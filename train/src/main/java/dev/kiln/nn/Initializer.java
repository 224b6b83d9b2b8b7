package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;

/** How a weight matrix of {@code fanIn} x {@code fanOut} gets its random initial value. */
public enum Initializer {
  /** Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)); for tanh/sigmoid/linear. */
  GLOROT_UNIFORM,
  /** He/Kaiming uniform: U(-a, a) with a = sqrt(6 / fanIn); for ReLU networks. */
  HE_UNIFORM,
  /** He/Kaiming normal: N(0, 2 / fanIn); for ReLU networks. */
  HE_NORMAL,
  /** All zeros (for tests and biases). */
  ZEROS;

  /** A graph value of {@code shape} drawn with this scheme. */
  public Output create(Ops tf, Shape shape, int fanIn, int fanOut, DType dtype, long seed) {
    return switch (this) {
      case GLOROT_UNIFORM -> uniform(tf, shape, Math.sqrt(6.0 / (fanIn + fanOut)), dtype, seed);
      case HE_UNIFORM -> uniform(tf, shape, Math.sqrt(6.0 / fanIn), dtype, seed);
      case HE_NORMAL -> tf.mul(tf.randomNormal(shape, dtype, seed), tf.constant(Math.sqrt(2.0 / fanIn), dtype));
      case ZEROS -> tf.fill(shape, tf.constant(0, dtype));
    };
  }

  /** U(-limit, limit) as (2u - 1) * limit from RandomUniform's u in [0, 1). */
  private static Output uniform(Ops tf, Shape shape, double limit, DType dtype, long seed) {
    Output u = tf.randomUniform(shape, dtype, seed);
    return tf.mul(tf.sub(tf.mul(u, tf.constant(2, dtype)), tf.constant(1, dtype)), tf.constant(limit, dtype));
  }
}
