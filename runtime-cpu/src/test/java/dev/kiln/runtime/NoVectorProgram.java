package dev.kiln.runtime;

import dev.kiln.runtime.kernels.VectorSupport;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Graphs whose results must not depend on whether the JVM has the Vector API: run in the test JVM
 * (which has it) and, by {@link NoVectorModuleTest}, in a JVM started without it. Prints one line
 * per fetched tensor: a label, "exact" or "close", and the values' float bits in hex. "exact": fused
 * and unfused elementwise ops, matmul epilogues and softmax, which compute the same bits either way;
 * "close": sums (their order follows the vector width) and the random programs of
 * OptimizerDifferentialTest (which also hold log, sin, cos and pow: within an ulp either way).
 */
final class NoVectorProgram {
  private NoVectorProgram() {}

  static final int RANDOM_PROGRAMS = 150;

  public static void main(String[] args) {
    System.out.println("vector=" + VectorSupport.AVAILABLE);
    outputs().forEach(System.out::println);
  }

  static List<String> outputs() {
    List<String> lines = new ArrayList<>();
    for (boolean optimize : new boolean[] {true, false}) {
      SessionOptions options = SessionOptions.builder().optimize(optimize).build();
      String mode = optimize ? "fused" : "unfused";
      elementwise(options, mode, lines);
      dense(options, mode, lines);
    }
    for (long seed = 1; seed <= RANDOM_PROGRAMS; seed++) {
      randomProgram(seed, lines);
    }
    return lines;
  }

  /** Values from the fast paths' ranges and past them, zeros, subnormals, infinities and NaN. */
  private static float[] inputs(int n, long seed) {
    Random r = new Random(seed);
    float[] specials = {0f, -0f, Float.MIN_VALUE, -1e-39f, 8.8f, -9f, 10f, 21f, 80f, -86.9f, 87f, -88.8f, 89f, -105f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double scale = switch (i / 1024 % 4) {
        case 0 -> 1;
        case 1 -> 6;
        case 2 -> 20;
        default -> 60;
      };
      x[i] = (float) (r.nextGaussian() * scale);
    }
    int at = n > 3 * 1024 ? 3 * 1024 : 0; // among the largest values, or in the one row
    for (int i = 0; i < specials.length; i++) {
      x[at + 7 * i] = specials[i];
    }
    return x;
  }

  /** W3's chain and a body of the other fused float ops, with a broadcast row and a scalar feed. */
  private static void elementwise(SessionOptions options, String mode, List<String> lines) {
    int rows = 8;
    int cols = 1024;
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(rows, cols));
    Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(cols));
    Output s = tf.placeholder("s", DType.FLOAT32, Shape.scalar());
    Output e = tf.exp(tf.mul(tf.neg(x), x));
    Output w3 = tf.sub(tf.mul(tf.tanh(tf.add(tf.mul(e, tf.constant(0.5f)), tf.sigmoid(x))), x), tf.constant(1f));
    Output xb = tf.mul(x, b);
    Output mixed = tf.add(tf.mul(tf.exp(tf.mul(x, s)), tf.sigmoid(tf.sub(xb, s))),
        tf.div(tf.tanh(tf.mul(x, tf.constant(0.25f))), tf.add(tf.abs(b), tf.constant(1f))));
    Output arithmetic = tf.sub(tf.maximum(tf.square(x), tf.relu(xb)), tf.mul(tf.minimum(x, s), tf.sqrt(tf.abs(x))));
    Output selected = tf.select(tf.greater(x, b), tf.exp(tf.mul(x, tf.constant(0.1f))), tf.tanh(xb));
    Output sum = tf.reduceSum(w3);
    Output rowMax = tf.reduceMax(tf.sigmoid(x), new int[] {1}, false);
    Map<Output, Tensor> feeds = Map.of(x, Tensor.of(inputs(rows * cols, 1), rows, cols),
        b, Tensor.of(inputs(cols, 2), cols), s, Tensor.of(new float[] {0.75f}));
    try (Session session = new Session(g, options)) {
      List<Tensor> out = session.run(feeds, w3, mixed, arithmetic, selected, sum, rowMax);
      String[] names = {"w3", "mixed", "arithmetic", "select", "w3-sum", "sigmoid-row-max"};
      for (int k = 0; k < names.length; k++) {
        lines.add(line(mode + " " + names[k], k == 4 ? "close" : "exact", out.get(k)));
      }
    }
  }

  /** MatMul with bias and an activation (fused into the product's epilogue), and softmax. */
  private static void dense(SessionOptions options, String mode, List<String> lines) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(64, 100));
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(100, 48));
    Output bias = tf.placeholder("bias", DType.FLOAT32, Shape.of(48));
    Output z = tf.add(tf.matmul(x, w), bias);
    Output[] fetches = {tf.sigmoid(z), tf.tanh(z), tf.relu(z), tf.softmax(z), tf.logSoftmax(z)};
    Random r = new Random(3);
    float[] xv = new float[64 * 100];
    float[] wv = new float[100 * 48];
    float[] bv = new float[48];
    for (int i = 0; i < xv.length; i++) {
      xv[i] = (float) r.nextGaussian();
    }
    for (int i = 0; i < wv.length; i++) {
      wv[i] = (float) (r.nextGaussian() * 0.5);
    }
    for (int i = 0; i < bv.length; i++) {
      bv[i] = (float) r.nextGaussian();
    }
    try (Session session = new Session(g, options)) {
      List<Tensor> out = session.run(Map.of(x, Tensor.of(xv, 64, 100), w, Tensor.of(wv, 100, 48), bias, Tensor.of(bv, 48)),
          fetches);
      String[] names = {"sigmoid(xw+b)", "tanh(xw+b)", "relu(xw+b)", "softmax", "logSoftmax"};
      for (int k = 0; k < names.length; k++) {
        lines.add(line(mode + " " + names[k], "exact", out.get(k)));
      }
    }
  }

  /** OptimizerDifferentialTest's programs, optimized: every fetch of one run, or the error. */
  private static void randomProgram(long seed, List<String> lines) {
    RandomPrograms.Case c = RandomPrograms.generate(seed);
    try (Session s = new Session(c.graph())) {
      try {
        c.init().ifPresent(s::run);
        List<Tensor> values = new ArrayList<>(s.run(c.feeds(), c.fetches().toArray(Output[]::new)));
        if (c.step().isPresent()) {
          Session.Runner r = s.runner().addTarget(c.step().get());
          c.feeds().forEach(r::feed);
          r.run();
          values.addAll(s.run(c.feeds(), c.fetches().toArray(Output[]::new)));
        }
        for (int k = 0; k < values.size(); k++) {
          lines.add(line("program " + seed + " value " + k, "close", values.get(k)));
        }
      } catch (RuntimeException e) {
        lines.add("program " + seed + "\terror\t" + e.getMessage());
      }
    }
  }

  private static String line(String label, String kind, Tensor t) {
    StringBuilder b = new StringBuilder(label).append('\t').append(kind).append('\t').append(t.type());
    for (int i = 0; i < t.size(); i++) {
      double v = t.getDouble(i);
      b.append(' ').append(Long.toHexString(Double.doubleToLongBits(v)));
    }
    return b.toString();
  }
}
