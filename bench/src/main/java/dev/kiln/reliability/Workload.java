package dev.kiln.reliability;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Random;

/**
 * The small network the concurrency and soak campaigns run: a dense layer with a variable, a softmax,
 * reductions and an elementwise chain the optimizer fuses, over a batch of {@code width}-wide rows.
 */
final class Workload {
  final Graph g = new Graph();
  final Ops tf = Ops.create(g);
  final int width;
  final Output x;
  final Variable w1;
  final Output h;
  final Output logits;
  final Output probs;
  final Output sumSquares;
  final Output rowMeans;
  final Output chain;
  final Output chainSum;

  Workload(int width) {
    this.width = width;
    x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, width));
    w1 = tf.variable("w1", tf.randomNormal(Shape.of(width, 32), 11));
    Output b1 = tf.constant(seeded(32, 12));
    h = tf.tanh(tf.add(tf.matmul(x, w1), tf.reshape(b1, 1, 32)));
    Output w2 = tf.constant(Tensor.of(seeded(32 * 8, 13), 32, 8));
    logits = tf.matmul(h, w2);
    probs = tf.softmax(logits);
    sumSquares = tf.reduceSum(tf.mul(probs, probs));
    rowMeans = tf.reduceMean(h, new int[] {1}, false);
    // sigmoid(x) * 2 + exp(-x * x) - 0.5 * tanh(x): one fused elementwise kernel
    Output sq = tf.mul(x, x);
    chain = tf.sub(tf.add(tf.mul(tf.sigmoid(x), tf.constant(2f)), tf.exp(tf.neg(sq))),
        tf.mul(tf.constant(0.5f), tf.tanh(x)));
    chainSum = tf.reduceSum(chain, new int[] {1}, true);
  }

  dev.kiln.graph.Operation init() {
    return w1.initializer();
  }

  /** A batch of {@code rows} rows of seeded values in [-2, 2). */
  Tensor batch(int rows, long seed) {
    return Tensor.of(seeded(rows * width, seed), rows, width);
  }

  static float[] seeded(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 4 - 2;
    }
    return v;
  }

  /** The fetch signatures the campaigns cycle through. */
  List<List<Output>> signatures() {
    return List.of(List.of(probs), List.of(sumSquares, h), List.of(chain), List.of(logits, probs),
        List.of(rowMeans), List.of(chainSum, chain, w1));
  }

  /** Bitwise equality of two runs' values, or where they first differ. */
  static String difference(List<Tensor> want, List<Tensor> got) {
    if (want.size() != got.size()) {
      return "got " + got.size() + " values, expected " + want.size();
    }
    for (int k = 0; k < want.size(); k++) {
      Tensor a = want.get(k);
      Tensor b = got.get(k);
      if (!a.type().equals(b.type())) {
        return "value " + k + " is " + b.type() + ", expected " + a.type();
      }
      float[] fa = a.toFloatArray();
      float[] fb = b.toFloatArray();
      for (int i = 0; i < fa.length; i++) {
        if (Float.floatToRawIntBits(fa[i]) != Float.floatToRawIntBits(fb[i])) {
          return "value " + k + " " + a.type() + " differs at element " + i + ": " + fb[i] + " instead of " + fa[i];
        }
      }
    }
    return null;
  }
}
