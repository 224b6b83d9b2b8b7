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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/** W3: y = tanh(exp(-x*x)*0.5 + sigmoid(x))*x - 1 over 4,194,304 floats fed each run; fetch sum(y). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class W3ElementwiseChain {
  /** on: the Session's optimizer pipeline (the chain runs as one Fused kernel); off: ten kernels. */
  @Param({"on", "off"})
  public String pipeline;

  private Workloads.ElementwiseChain w;
  private Session session;
  private Map<Output, Tensor> feeds;

  @Setup
  public void setUp() {
    w = new Workloads.ElementwiseChain();
    session = new Session(w.graph, Workloads.options(pipeline));
    feeds = Map.of(w.x, w.xv);
  }

  @Benchmark
  public float run() {
    return session.run(feeds, w.sum).get(0).floatValue();
  }

  @TearDown
  public void tearDown() {
    session.close();
  }
}
