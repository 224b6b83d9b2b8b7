package dev.kiln.bench;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
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
 * W4: dispatch cost. {@code chain1000}: 1000 chained tiny ops on 16 floats, fed and fetched each run
 * (µs per run; per op = /1000). {@code identity}: feed 16 floats -> Identity -> fetch, the fixed
 * cost of a run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class W4Dispatch {
  private Workloads.Dispatch w;
  private Session session;
  private Map<Output, Tensor> feeds;

  @Setup
  public void setUp() {
    w = new Workloads.Dispatch();
    session = new Session(w.graph);
    feeds = Map.of(w.x, w.xv);
  }

  @Benchmark
  public Tensor chain1000() {
    return session.run(feeds, w.y).get(0);
  }

  @Benchmark
  public Tensor identity() {
    return session.run(feeds, w.identity).get(0);
  }

  @TearDown
  public void tearDown() {
    session.close();
  }
}
