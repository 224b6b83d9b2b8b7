package dev.kiln.runtime;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorArray;
import java.util.List;
import java.util.Map;

/**
 * Run by {@code ControlFlowTest} in a JVM of its own: a loop of 10 and of 100,000 iterations over the
 * same plan, after warm-up; prints how many more bytes the calling thread allocated for the long run
 * than for the short one (the best of several tries, as C2's compilations land in the background).
 */
final class LoopAllocationProbe {
  private LoopAllocationProbe() {}

  public static void main(String[] args) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(64));
    TensorArray ta = tf.tensorArray(DType.FLOAT32, 8, Shape.of(64));
    List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), limit), v -> List.of(tf.add(v.get(0), tf.constant(1)),
        tf.tanh(tf.add(tf.mul(v.get(1), x), x)), tf.tensorArray(v.get(2)).write(tf.minimum(v.get(0),
            tf.constant(7)), v.get(1)).flow()), List.of(tf.constant(0), x, ta.flow()));
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    Map<Output, Tensor> few = Map.of(limit, Tensor.scalar(10), x, Tensor.of(new float[64], 64));
    Map<Output, Tensor> many = Map.of(limit, Tensor.scalar(100_000), x, Tensor.of(new float[64], 64));
    try (Session s = new Session(g)) {
      for (int i = 0; i < 5; i++) {
        s.run(few, r.get(1), r.get(2));
        s.run(many, r.get(1), r.get(2));
      }
      long best = Long.MAX_VALUE;
      StringBuilder seen = new StringBuilder();
      for (int attempt = 0; attempt < 20 && best >= 10_000; attempt++) {
        long t0 = mx.getCurrentThreadAllocatedBytes();
        s.run(few, r.get(1), r.get(2));
        long t1 = mx.getCurrentThreadAllocatedBytes();
        s.run(many, r.get(1), r.get(2));
        long t2 = mx.getCurrentThreadAllocatedBytes();
        best = Math.min(best, (t2 - t1) - (t1 - t0));
        seen.append(' ').append(t1 - t0).append('/').append(t2 - t1);
      }
      System.out.println("extra bytes " + best + " (bytes for 10 / 100,000 iterations, per try:" + seen + ")");
    }
  }
}
