package dev.kiln.bench;

import dev.kiln.graph.Output;
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
 * W1: one training step of the seed two-layer network, gradients written by hand: feed x and y,
 * fetch loss, new_w1 and new_w2, read the loss (as the anchors do).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class W1TwoLayerStep {
  private Workloads.TwoLayer net;
  private Session session;
  private Map<Output, Tensor> feeds;

  @Setup
  public void setUp() {
    net = new Workloads.TwoLayer();
    session = new Session(net.graph);
    session.run(net.init);
    feeds = Map.of(net.x, net.xv, net.y, net.yv);
  }

  @Benchmark
  public float step() {
    List<Tensor> out = session.run(feeds, net.loss, net.newW1, net.newW2);
    return out.get(0).floatValue();
  }

  @TearDown
  public void tearDown() {
    session.close();
  }
}
