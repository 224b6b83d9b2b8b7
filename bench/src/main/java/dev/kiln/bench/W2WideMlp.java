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

/** W2: one SGD training step of the wide MLP (feed x and labels, run the updates, fetch the loss). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
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
