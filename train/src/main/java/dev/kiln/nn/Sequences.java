package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.Optional;

/** Sequence helpers on time-major values [T, B, ...]. */
final class Sequences {
  private Sequences() {}

  /**
   * Each example's first {@code length} steps reversed, the rest left in place (TensorFlow's
   * {@code reverse_sequence}); without lengths, the whole time axis reversed. T must be known.
   */
  static Output reverse(Ops tf, Output x, Optional<Output> lengths) {
    int steps = x.shape().dim(0);
    if (steps < 0) {
      throw new IllegalArgumentException("reversing '" + x.name() + "': the time axis must have a known size, got "
          + x.shape());
    }
    if (lengths.isEmpty()) {
      return tf.gather(x, tf.range(steps - 1, -1, -1, DType.INT32), 0);
    }
    Output len = tf.reshape(lengths.get(), 1, -1);
    Output t = tf.reshape(tf.range(steps), steps, 1);
    // Source step of (t, b): len_b - 1 - t inside the sequence, t past it.
    Output source = tf.select(tf.less(t, len), tf.sub(tf.sub(len, tf.constant(1)), t), tf.add(t, tf.zerosLike(len)));
    Output batch = tf.add(tf.zerosLike(t), tf.reshape(tf.cumsum(tf.onesLike(lengths.get()), 0, true, false), 1, -1));
    return tf.gatherNd(x, tf.stack(java.util.List.of(source, batch), 2));
  }
}
