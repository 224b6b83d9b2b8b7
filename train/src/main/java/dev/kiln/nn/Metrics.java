package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;

/** Evaluation metrics as graph builders. */
public final class Metrics {
  private Metrics() {}

  /**
   * The fraction of rows whose highest score is at the true class: scores [batch, classes], integer
   * labels [batch]; an f32 scalar.
   */
  public static Output accuracy(Ops tf, Output scores, Output labels) {
    if (scores.shape().rank() != 2 || !labels.dtype().isInteger()) {
      throw new IllegalArgumentException("accuracy: expects scores [batch, classes] and integer labels [batch], got '"
          + scores.name() + "' " + scores.type() + " and '" + labels.name() + "' " + labels.type());
    }
    Ops scope = tf.withSubScope(LayerScopes.unique(tf.graph(), "accuracy"));
    Output predicted = scope.argMax(scores, 1);
    Output truth = labels.dtype() == DType.INT64 ? labels : scope.cast(labels, DType.INT64);
    return scope.reduceMean(scope.cast(scope.equal(predicted, truth), DType.FLOAT32), new int[] {0}, false);
  }
}
