package dev.kiln.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/** The gradients of the {@link ArrayOps}, built from graph ops so that they can be differentiated again. */
final class ArrayGradients {
  private ArrayGradients() {}

  /** The gradient of an op from the gradient of its first output: one nullable entry per input. */
  @FunctionalInterface
  interface Grad {
    Output[] apply(Ops tf, Operation op, Output g);
  }

  static GradientFunction of(Grad f) {
    return (tf, op, grads) -> {
      Optional<Output> g = grads.get(0);
      if (g.isEmpty()) {
        return Collections.nCopies(op.numInputs(), Optional.empty());
      }
      List<Optional<Output>> out = new ArrayList<>();
      for (Output o : f.apply(tf, op, g.get())) {
        out.add(Optional.ofNullable(o));
      }
      return out;
    };
  }

  static Output[] gather(Ops tf, Operation op, Output g) {
    Output sum = tf.opBuilder("GatherGrad").addInput(g).addInput(op.input(1)).addInput(op.input(0))
        .setAttr("axis", op.attrs().getLong("axis")).build().output(0);
    return new Output[] {sum, null};
  }

  static Output[] gatherGrad(Ops tf, Operation op, Output g) {
    return new Output[] {tf.gather(g, op.input(1), op.attrs().getInt("axis")), null, null};
  }

  static Output[] gatherNd(Ops tf, Operation op, Output g) {
    Output sum = tf.opBuilder("ScatterNd").addInput(op.input(1)).addInput(g).addInput(op.input(0)).build().output(0);
    return new Output[] {sum, null};
  }

  static Output[] scatterNd(Ops tf, Operation op, Output g) {
    Output[] r = new Output[op.numInputs()];
    r[1] = tf.gatherNd(g, op.input(0));
    return r;
  }

  /** MatMul's four cases, then each summed over the batch dimensions it was broadcast along. */
  static Output[] batchMatMul(Ops tf, Operation op, Output g) {
    Output a = op.input(0);
    Output b = op.input(1);
    boolean ta = op.attrs().getBool("transpose_a", false);
    boolean tb = op.attrs().getBool("transpose_b", false);
    Output ga;
    Output gb;
    Shape bs = b.shape();
    if (!ta && bs.rank() == 2 && bs.isFullyDefined() && a.shape().rank() > 2) {
      // A matrix shared by the whole batch (a dense layer on [batch, time, features]): its gradient is
      // one product over all the batch's rows, and a's needs no sum.
      int k = tb ? bs.dim(1) : bs.dim(0);
      int n = tb ? bs.dim(0) : bs.dim(1);
      Output rowsA = tf.reshape(a, -1, k);
      Output rowsG = tf.reshape(g, -1, n);
      ga = tf.matmul(g, b, false, !tb);
      gb = tb ? tf.matmul(rowsG, rowsA, true, false) : tf.matmul(rowsA, rowsG, true, false);
      return new Output[] {ga, gb};
    }
    if (!ta && !tb) {
      ga = tf.matmul(g, b, false, true);
      gb = tf.matmul(a, g, true, false);
    } else if (!ta) {
      ga = tf.matmul(g, b, false, false);
      gb = tf.matmul(g, a, true, false);
    } else if (!tb) {
      ga = tf.matmul(b, g, false, true);
      gb = tf.matmul(a, g, false, false);
    } else {
      ga = tf.matmul(b, g, true, true);
      gb = tf.matmul(g, a, true, true);
    }
    return new Output[] {sumToBatch(tf, ga, a), sumToBatch(tf, gb, b)};
  }

  /** grad (of the broadcast batch) summed to x's shape; no node when x's batch is the whole batch. */
  private static Output sumToBatch(Ops tf, Output grad, Output x) {
    if (grad.shape().isFullyDefined() && grad.shape().equals(x.shape())) {
      return grad;
    }
    return tf.reduceSumLike(grad, x);
  }

  /** g viewed as [m0, d0, m1, d1, ...] and summed over the multiples' axes. */
  static Output[] tile(Ops tf, Operation op, Output g) {
    Shape s = op.input(0).shape();
    if (!s.isFullyDefined()) {
      throw new IllegalArgumentException("gradients: the gradient of " + op
          + " needs an input of fully defined shape, got " + s);
    }
    int[] mult = op.attrs().getInts("multiples");
    int r = s.rank();
    int[] split = new int[2 * r];
    int[] axes = new int[r];
    for (int i = 0; i < r; i++) {
      split[2 * i] = mult[i];
      split[2 * i + 1] = s.dim(i);
      axes[i] = 2 * i;
    }
    if (r == 0) {
      return new Output[] {g};
    }
    Output summed = tf.reduceSum(tf.reshape(g, split), axes, false);
    return new Output[] {tf.reshape(summed, s)};
  }

  static Output[] broadcastTo(Ops tf, Operation op, Output g) {
    return new Output[] {sumToBatch(tf, g, op.input(0))};
  }

  static Output[] cumsum(Ops tf, Operation op, Output g) {
    return new Output[] {tf.cumsum(g, op.attrs().getInt("axis"), op.attrs().getBool("exclusive"),
        !op.attrs().getBool("reverse"))};
  }

  /** Each value's gradient goes back to the element it came from: a one-hot sum over the k picks. */
  static Output[] topK(Ops tf, Operation op, Output g) {
    Shape s = op.input(0).shape();
    int n = s.hasKnownRank() ? s.dim(s.rank() - 1) : -1;
    if (n < 0) {
      throw new IllegalArgumentException("gradients: the gradient of " + op
          + " needs the last dimension of its input, which is unknown: " + s);
    }
    Output hot = tf.oneHot(op.output(1), n, g.dtype());
    int picks = s.rank() - 1;
    return new Output[] {tf.reduceSum(tf.mul(hot, tf.expandDims(g, -1)), new int[] {picks}, false)};
  }
}
