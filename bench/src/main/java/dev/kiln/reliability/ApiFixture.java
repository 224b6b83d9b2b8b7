package dev.kiln.reliability;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.util.Arrays;
import java.util.Map;

/**
 * The graph and Session the bad API calls are made against, and the known-good computation run after
 * each of them: {@code y = x w + b} for a fed x, a node built afresh, the variable's value, and the
 * graph's text reading back. Expected values are computed here in plain Java.
 */
final class ApiFixture {
  static final float[] XV = {1, 2, 3, 4, 5, 6};
  static final float[] W = {1, 0, 0, 1, 1, 1};
  static final float[] B = {0.5f, -1f};

  final Graph g = new Graph();
  final Ops tf = Ops.create(g);
  final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
  final Output xi = tf.placeholder("xi", DType.INT32, Shape.of(3));
  final Output xb = tf.placeholder("xb", DType.BOOL, Shape.of(3));
  final Output xd = tf.placeholder("xd", DType.FLOAT64, Shape.of(3));
  final Variable w = tf.variable("w", tf.constant(Tensor.of(W, 3, 2)));
  final Output y = tf.withName("y").add(tf.matmul(x, w), tf.constant(Tensor.of(B, 2)));
  final Operation init = tf.globalVariablesInitializer();
  final Session s = new Session(g);

  /** A second graph, for outputs, variables and nodes that belong elsewhere. */
  final Graph other = new Graph();
  final Ops otf = Ops.create(other);
  final Output ox = otf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
  final Variable ow = otf.variable("w", otf.constant(Tensor.of(W, 3, 2)));

  ApiFixture() {
    s.run(init);
  }

  Tensor xv() {
    return Tensor.of(XV, 2, 3);
  }

  Output f32(int... dims) {
    return tf.constant(Tensor.zeros(DType.FLOAT32, Shape.of(dims)));
  }

  Output i32(int... dims) {
    return tf.constant(Tensor.zeros(DType.INT32, Shape.of(dims)));
  }

  Output bool(int... dims) {
    return tf.constant(Tensor.zeros(DType.BOOL, Shape.of(dims)));
  }

  static float[] expectedY() {
    float[] out = new float[4];
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        float acc = 0;
        for (int k = 0; k < 3; k++) {
          acc += XV[i * 3 + k] * W[k * 2 + j];
        }
        out[i * 2 + j] = acc + B[j];
      }
    }
    return out;
  }

  /** Null when the Session and graph still work as before; otherwise what is wrong. */
  String unhealthy() {
    try {
      float[] got = s.run(Map.of(x, xv()), y).get(0).toFloatArray();
      if (!Arrays.equals(got, expectedY())) {
        return "y = " + Arrays.toString(got) + ", expected " + Arrays.toString(expectedY());
      }
      Output z = tf.add(x, tf.constant(1f));
      float[] zv = s.run(Map.of(x, xv()), z).get(0).toFloatArray();
      for (int i = 0; i < XV.length; i++) {
        if (zv[i] != XV[i] + 1) {
          return "a node built afterwards computes x + 1 = " + Arrays.toString(zv);
        }
      }
      float[] wv = s.variableValue(w).toFloatArray();
      if (!Arrays.equals(wv, W)) {
        return "variable w changed to " + Arrays.toString(wv);
      }
      Graph.parse(g.toText());
      return null;
    } catch (Throwable t) {
      return "known-good computation failed: " + Classify.describe(t);
    }
  }

  void close() {
    s.close();
  }
}
