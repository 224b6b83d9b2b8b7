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

/**
 * W2: one SGD training step of the wide MLP (feed x and labels, run the updates, fetch the loss).
 * Warmed up for 15 s (about 1,600 steps): the JIT reaches the step's small kernels late, because
 * MKL's threads keep both cores busy, so 3 s of warm-up measured the step 1-3% slower than a long
 * training run sees it ({@code StepLoop w2 on 4000} prints the curve).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 15, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class W2WideMlp {
  @Param({"on", "off"})
  public String pipeline;

  private Workloads.WideMlp net;
  private Session session;
  private Map<Output, Tensor> feeds;

  @Setup
  public void setUp() {
    net = new Workloads.WideMlp();
    session = new Session(net.graph, Workloads.options(pipeline));
    session.run(net.init);
    feeds = Map.of(net.x, net.xv, net.labels, net.labelsV);
  }

  @Benchmark
  public float step() {
    return session.runner().feed(net.x, net.xv).feed(net.labels, net.labelsV).fetch(net.loss).addTarget(net.train)
        .run().get(0).floatValue();
  }

  @TearDown
  public void tearDown() {
    session.close();
  }
}
