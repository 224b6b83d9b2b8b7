package dev.kiln.examples;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * The classic TensorFlow 1.x two-layer network, written as TF1 writes it: placeholders x and y,
 * variables w1 and w2, {@code loss = reduce_sum((y - y_pred) ** 2)}, {@code tf.gradients(loss, [w1, w2])}
 * and plain gradient-descent assigns, run 500 times fetching {@code [loss, new_w1, new_w2]}.
 *
 * <pre>
 * N, D_in, H, D_out = 64, 1000, 100, 10
 * x = tf.placeholder(tf.float32, shape=(None, D_in)); y = tf.placeholder(tf.float32, shape=(None, D_out))
 * w1 = tf.Variable(tf.random_normal((D_in, H))); w2 = tf.Variable(tf.random_normal((H, D_out)))
 * h = tf.matmul(x, w1); h_relu = tf.maximum(h, tf.zeros(1)); y_pred = tf.matmul(h_relu, w2)
 * loss = tf.reduce_sum((y - y_pred) ** 2.0)
 * grad_w1, grad_w2 = tf.gradients(loss, [w1, w2])
 * new_w1 = w1.assign(w1 - learning_rate * grad_w1); new_w2 = w2.assign(w2 - learning_rate * grad_w2)
 * </pre>
 */
public final class TwoLayerNet {
  static final int N = 64;
  static final int D_IN = 1000;
  static final int H = 100;
  static final int D_OUT = 10;
  static final float LEARNING_RATE = 1e-6f;
  static final int STEPS = 500;

  private TwoLayerNet() {}

  public static void main(String[] args) {
    train(STEPS, (tf, h) -> tf.maximum(h, tf.constant(0f)), System.out::println);
  }

  /** What a training run saw: the loss of every step, the data, and the initial weights. */
  record Training(List<Float> losses, Tensor x, Tensor y, Tensor w1, Tensor w2) {}

  /**
   * Builds the network with {@code relu} as its hidden activation, trains it for {@code steps} runs
   * on fixed standard-normal data, and returns the loss of every step; reports every 50 steps.
   */
  static Training train(int steps, BiFunction<Ops, Output, Output> relu, Consumer<String> report) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, D_IN));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, D_OUT));
    Variable w1 = tf.variable("w1", tf.randomNormal(Shape.of(D_IN, H), 1L));
    Variable w2 = tf.variable("w2", tf.randomNormal(Shape.of(H, D_OUT), 2L));

    Output h = tf.matmul(x, w1);
    Output hRelu = relu.apply(tf, h);
    Output yPred = tf.matmul(hRelu, w2);
    Output loss = tf.reduceSum(tf.pow(tf.sub(y, yPred), tf.constant(2f)));

    List<Output> grads = tf.gradients(loss, w1, w2);
    Output lr = tf.constant(LEARNING_RATE);
    Output newW1 = tf.assign(w1, tf.sub(w1, tf.mul(lr, grads.get(0))));
    Output newW2 = tf.assign(w2, tf.sub(w2, tf.mul(lr, grads.get(1))));
    Operation init = tf.globalVariablesInitializer();

    Random r = new Random(0);
    Tensor xData = normal(r, N, D_IN);
    Tensor yData = normal(r, N, D_OUT);
    Map<Output, Tensor> feeds = Map.of(x, xData, y, yData);
    List<Float> losses = new ArrayList<>(steps);
    try (Session s = new Session(g)) {
      s.run(init);
      Tensor w1Initial = s.variableValue(w1);
      Tensor w2Initial = s.variableValue(w2);
      long since = System.nanoTime();
      int sinceStep = 0;
      for (int t = 0; t < steps; t++) {
        List<Tensor> out = s.run(feeds, loss, newW1, newW2);
        losses.add(out.get(0).floatValue());
        if (t % 50 == 0 || t == steps - 1) {
          // Time per step since the last report; step 0 includes compiling the run's plan.
          long now = System.nanoTime();
          double msPerStep = (now - since) / 1e6 / (t + 1 - sinceStep);
          report.accept(String.format("step %3d  loss %.6e  %8.3f ms/step", t, losses.get(t), msPerStep));
          since = now;
          sinceStep = t + 1;
        }
      }
      return new Training(List.copyOf(losses), xData, yData, w1Initial, w2Initial);
    }
  }

  /** A tensor of standard-normal values. */
  static Tensor normal(Random r, int rows, int cols) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return Tensor.of(v, rows, cols);
  }
}
