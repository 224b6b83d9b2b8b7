package dev.kiln.bench;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * W5's convolutions and pooling one op at a time (forward, input and filter gradient of each
 * convolution; max-pool and its gradient), for tuning the kernels: {@code java -cp benchmarks.jar
 * dev.kiln.bench.ConvOpsBench [repetitions]} prints the median milliseconds and GFLOP/s of each.
 */
public final class ConvOpsBench {
  private ConvOpsBench() {}

  public static void main(String[] args) {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int[] one = {1, 1};
    record Conv(String name, int h, int c, int k) {}
    for (Conv cv : List.of(new Conv("conv1", 28, 1, 32), new Conv("conv2", 14, 32, 64))) {
      double flop = 2.0 * 64 * cv.h * cv.h * cv.k * 25 * cv.c;
      time(cv.name + " forward", flop, reps, (tf, in) -> tf.conv2d(in.get(0), in.get(1), one, "SAME"),
          Shape.of(64, cv.h, cv.h, cv.c), Shape.of(5, 5, cv.c, cv.k));
      time(cv.name + " backprop input", flop, reps, (tf, in) -> tf.conv2dTranspose(in.get(0), in.get(1),
          Shape.of(64, cv.h, cv.h, cv.c), one, "SAME"), Shape.of(64, cv.h, cv.h, cv.k), Shape.of(5, 5, cv.c, cv.k));
      time(cv.name + " backprop filter", flop, reps, (tf, in) -> tf.opBuilder("Conv2DBackpropFilter").addInput(in.get(0))
          .addInput(in.get(1)).setAttr("filter_sizes", Shape.of(5, 5, cv.c, cv.k)).setAttr("strides", one)
          .setAttr("padding", "SAME").build().output(0), Shape.of(64, cv.h, cv.h, cv.c), Shape.of(64, cv.h, cv.h, cv.k));
    }
    time("matmul 12544x800x64", 2.0 * 12544 * 800 * 64, reps, (tf, in) -> tf.matmul(in.get(0), in.get(1)),
        Shape.of(12544, 800), Shape.of(800, 64));
    time("maxpool 28x28x32", 0, reps, (tf, in) -> tf.maxPool(in.get(0), new int[] {2, 2}, new int[] {2, 2}, "SAME"),
        Shape.of(64, 28, 28, 32));
    time("maxpool grad 28x28x32", 0, reps, (tf, in) -> tf.gradients(
        tf.maxPool(in.get(0), new int[] {2, 2}, new int[] {2, 2}, "SAME"), in.get(0)).get(0), Shape.of(64, 28, 28, 32));
  }

  private static void time(String name, double flop, int reps, BiFunction<Ops, List<Output>, Output> build,
      Shape... shapes) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    java.util.List<Output> ins = new java.util.ArrayList<>();
    java.util.Map<Output, Tensor> feeds = new java.util.HashMap<>();
    for (int i = 0; i < shapes.length; i++) {
      Output p = tf.placeholder("in" + i, DType.FLOAT32, shapes[i]);
      ins.add(p);
      feeds.put(p, Tensor.of(AnchorData.normal(100 + i, shapes[i].elementCount(), 1.0), shapes[i].dims()));
    }
    Output y = build.apply(tf, ins);
    try (Session s = new Session(g)) {
      double[] ms = new double[reps];
      for (int i = -5; i < reps; i++) {
        long t0 = System.nanoTime();
        s.run(Map.copyOf(feeds), y);
        if (i >= 0) {
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      Arrays.sort(ms);
      System.out.printf(java.util.Locale.ROOT, "%-28s median %8.3f ms  min %8.3f ms  %s%n", name, ms[reps / 2], ms[0],
          flop > 0 ? String.format(java.util.Locale.ROOT, "%.1f GFLOP/s", flop / ms[reps / 2] / 1e6) : "");
    }
  }
}
