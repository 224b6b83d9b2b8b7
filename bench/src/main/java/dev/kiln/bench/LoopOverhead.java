package dev.kiln.bench;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one iteration of a loop: {@code counter}, a whileLoop counting an int32 to a fed limit
 * of 1,000,000 (ms per run; ns per iteration = the ms figure). Each iteration runs the condition's
 * plan (one Less) and the body's (one Add) and carries the counter.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LoopOverhead {
  static final int ITERATIONS = 1_000_000;

  private Session session;
  private Output count;
  private Map<Output, Tensor> feeds;

  /** The counter loop: its output and the limit placeholder. */
  static Output[] counter(Graph g) {
    Ops tf = Ops.create(g);
    Output limit = tf.placeholder("limit", DType.INT32, Shape.scalar());
    Output count = tf.whileLoop(v -> tf.less(v.get(0), limit), v -> List.of(tf.add(v.get(0), tf.constant(1))),
        List.of(tf.constant(0))).get(0);
    return new Output[] {count, limit};
  }

  @Setup
  public void setUp() {
    Graph g = new Graph();
    Output[] c = counter(g);
    count = c[0];
    feeds = Map.of(c[1], Tensor.scalar(ITERATIONS));
    session = new Session(g);
  }

  @Benchmark
  public Tensor counter() {
    return session.run(feeds, count).get(0);
  }

  @TearDown
  public void tearDown() {
    session.close();
  }

  /** A quick measurement without JMH: the median of 15 runs, as ns per iteration. */
  public static void main(String[] args) {
    Graph g = new Graph();
    Output[] c = counter(g);
    Map<Output, Tensor> feeds = Map.of(c[1], Tensor.scalar(ITERATIONS));
    try (Session s = new Session(g)) {
      long[] times = new long[15];
      for (int warm = 0; warm < 10; warm++) {
        s.run(feeds, c[0]);
      }
      for (int r = 0; r < times.length; r++) {
        long t0 = System.nanoTime();
        Tensor out = s.run(feeds, c[0]).get(0);
        times[r] = System.nanoTime() - t0;
        if (out.toIntArray()[0] != ITERATIONS) {
          throw new IllegalStateException("counted " + out.toIntArray()[0]);
        }
      }
      java.util.Arrays.sort(times);
      System.out.printf("RESULT\tloop\tkiln\tns_per_iteration\t%.1f%n", times[times.length / 2] / (double) ITERATIONS);
    }
  }
}
