package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.List;
import java.util.Optional;

/** Sequence helpers on time-major values [T, B, F], T and B possibly unknown until the run. */
final class Sequences {
  private Sequences() {}

  /**
   * Each example's first {@code length} steps reversed, the rest left in place (TensorFlow's
   * {@code reverse_sequence}); without lengths, the whole time axis reversed.
   */
  static Output reverse(Ops tf, Output x, Optional<Output> lengths) {
    // 0..T-1 [T, 1] and 0..B-1 [1, B], counted from x itself.
    Output t = tf.reshape(indices(tf, tf.slice(x, new int[] {0, 0, 0}, new int[] {-1, 1, 1})), -1, 1);
    Output b = tf.reshape(indices(tf, tf.slice(x, new int[] {0, 0, 0}, new int[] {1, -1, 1})), 1, -1);
    Output len = lengths.map(l -> tf.reshape(l, 1, -1))
        .orElseGet(() -> tf.add(tf.zerosLike(b), tf.add(tf.reduceMax(t), tf.constant(1))));
    // Source step of (t, b): len_b - 1 - t inside the sequence, t past it.
    Output source = tf.select(tf.less(t, len), tf.sub(tf.sub(len, tf.constant(1)), t), tf.add(t, tf.zerosLike(len)));
    Output batch = tf.add(tf.zerosLike(t), b);
    return tf.gatherNd(x, tf.stack(List.of(source, batch), 2));
  }

  /** 0, 1, ..., n-1 (int32) for the n elements of v. */
  private static Output indices(Ops tf, Output v) {
    return tf.cumsum(tf.onesLike(tf.cast(tf.reshape(v, -1), DType.INT32)), 0, true, false);
  }
}
