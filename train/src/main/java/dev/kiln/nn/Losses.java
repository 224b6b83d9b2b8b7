package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;

/**
 * Loss functions as graph builders. Classification losses take inputs of shape [batch, classes] and
 * give one value per example before the {@link Reduction}. Cross-entropy goes through LogSoftmax
 * (x - max - log(sum(exp(x - max)))), so neither it nor its gradient, softmax(x) - labels, overflows for
 * logits of any magnitude.
 */
public final class Losses {
  private Losses() {}

  /** Mean (or sum) of (predictions - targets)^2 over all elements; shapes must match. */
  public static Output meanSquaredError(Ops tf, Output predictions, Output targets, Reduction reduction) {
    requireFloat("meanSquaredError", predictions);
    requireSameType("meanSquaredError", predictions, targets);
    Ops scope = tf.withSubScope(LayerScopes.unique(tf.graph(), "mse"));
    Output squared = scope.square(scope.sub(predictions, targets));
    return reduce(scope, squared, reduction, allAxes(squared));
  }

  /**
   * Cross-entropy between one-hot (or any probability) {@code labels} and {@code softmax(logits)}:
   * -sum(labels * logSoftmax(logits)) over the last axis.
   */
  public static Output softmaxCrossEntropy(Ops tf, Output logits, Output labels, Reduction reduction) {
    requireFloat("softmaxCrossEntropy", logits);
    requireSameType("softmaxCrossEntropy", logits, labels);
    requireRank2("softmaxCrossEntropy", logits);
    Ops scope = tf.withSubScope(LayerScopes.unique(tf.graph(), "softmax_cross_entropy"));
    return crossEntropy(scope, scope.logSoftmax(logits, -1), labels, reduction);
  }

  /** Cross-entropy for integer class labels (i32 or i64) of shape [batch]. */
  public static Output sparseSoftmaxCrossEntropy(Ops tf, Output logits, Output labels, Reduction reduction) {
    requireFloat("sparseSoftmaxCrossEntropy", logits);
    requireRank2("sparseSoftmaxCrossEntropy", logits);
    int classes = requireClasses("sparseSoftmaxCrossEntropy", logits, labels);
    Ops scope = tf.withSubScope(LayerScopes.unique(tf.graph(), "softmax_cross_entropy"));
    Output oneHot = scope.oneHot(labels, classes, logits.dtype());
    return crossEntropy(scope, scope.logSoftmax(logits, -1), oneHot, reduction);
  }

  /**
   * Negative log-likelihood of integer class {@code labels} under {@code logProbabilities} (the output
   * of LogSoftmax): -logProbabilities[i, labels[i]], PyTorch's {@code nll_loss}.
   */
  public static Output negativeLogLikelihood(Ops tf, Output logProbabilities, Output labels,
      Reduction reduction) {
    requireFloat("negativeLogLikelihood", logProbabilities);
    requireRank2("negativeLogLikelihood", logProbabilities);
    int classes = requireClasses("negativeLogLikelihood", logProbabilities, labels);
    Ops scope = tf.withSubScope(LayerScopes.unique(tf.graph(), "nll"));
    return crossEntropy(scope, logProbabilities, scope.oneHot(labels, classes, logProbabilities.dtype()),
        reduction);
  }

  private static Output crossEntropy(Ops scope, Output logProbabilities, Output labels, Reduction reduction) {
    Output perExample = scope.neg(scope.reduceSum(scope.mul(labels, logProbabilities), new int[] {1}, false));
    return reduce(scope, perExample, reduction, new int[] {0});
  }

  private static Output reduce(Ops scope, Output x, Reduction reduction, int[] axes) {
    return switch (reduction) {
      case MEAN -> scope.reduceMean(x, axes, false);
      case SUM -> scope.reduceSum(x, axes, false);
      case NONE -> x;
    };
  }

  private static int[] allAxes(Output x) {
    int[] axes = new int[x.shape().rank()];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i;
    }
    return axes;
  }

  private static void requireFloat(String loss, Output x) {
    if (!x.dtype().isFloating()) {
      throw new IllegalArgumentException(
          loss + ": '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (!x.shape().hasKnownRank()) {
      throw new IllegalArgumentException(loss + ": '" + x.name() + "' must have a known rank, got " + x.shape());
    }
  }

  private static void requireRank2(String loss, Output x) {
    if (x.shape().rank() != 2) {
      throw new IllegalArgumentException(
          loss + ": '" + x.name() + "' must have shape [batch, classes], got " + x.shape());
    }
  }

  /** Two inputs that are combined elementwise without broadcasting. */
  private static void requireSameType(String loss, Output a, Output b) {
    if (a.dtype() != b.dtype() || !a.shape().isCompatibleWith(b.shape())) {
      throw new IllegalArgumentException(loss + ": '" + b.name() + "' is " + b.type() + " but '" + a.name()
          + "' is " + a.type() + "; they must have the same dtype and shape");
    }
  }

  private static int requireClasses(String loss, Output scores, Output labels) {
    int classes = scores.shape().dim(1);
    if (classes < 0) {
      throw new IllegalArgumentException(
          loss + ": '" + scores.name() + "' has shape " + scores.shape() + "; the class count must be known");
    }
    if (!labels.dtype().isInteger() || !labels.shape().isCompatibleWith(Shape.unknownDims(1))
        || !Shape.of(scores.shape().dim(0)).isCompatibleWith(labels.shape())) {
      throw new IllegalArgumentException(loss + ": labels '" + labels.name() + "' must be i32 or i64 of shape ["
          + (scores.shape().dim(0) < 0 ? "?" : scores.shape().dim(0)) + "], got " + labels.type());
    }
    return classes;
  }
}
