package dev.kiln.bench;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Result;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * W1: one training step of the seed two-layer network, gradients from tf.gradients: feed x and y,
 * fetch loss, new_w1 and new_w2, read the loss (as the anchors do). {@code stepHandWritten} is the
 * same step with the gradients written by hand, to show what autodiff's graph costs; {@code
 * stepAssignsAsTargets} runs the two assigns as targets and fetches only the loss, to show what
 * handing out a fresh copy of new_w1 (1000x100 floats) every step costs; {@code stepNoCopy} fetches
 * the same three values with {@code runNoCopy()}, which lends new_w1 and new_w2 (the variables'
 * storage) to a Result closed after the loss is read, as TensorFlow Java's step closes its Result.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class W1TwoLayerStep {
  /** on: the Session's optimizer pipeline (fusion, memory planning); off: the graph as written. */
  @Param({"on", "off"})
  public String pipeline;

  private Workloads.TwoLayer net;
  private Session session;
  private Map<Output, Tensor> feeds;
  private Session.Runner targets;
  private Session.Runner fetchAll;
  private Workloads.TwoLayer handNet;
  private Session handSession;
  private Map<Output, Tensor> handFeeds;

  @Setup
  public void setUp() {
    net = new Workloads.TwoLayer();
    session = new Session(net.graph, Workloads.options(pipeline));
    session.run(net.init);
    feeds = Map.of(net.x, net.xv, net.y, net.yv);
    targets = session.runner().feed(net.x, net.xv).feed(net.y, net.yv).fetch(net.loss)
        .addTarget(net.newW1.op()).addTarget(net.newW2.op());
    fetchAll = session.runner().feed(net.x, net.xv).feed(net.y, net.yv).fetch(net.loss).fetch(net.newW1)
        .fetch(net.newW2);
    handNet = new Workloads.TwoLayer(true);
    handSession = new Session(handNet.graph, Workloads.options(pipeline));
    handSession.run(handNet.init);
    handFeeds = Map.of(handNet.x, handNet.xv, handNet.y, handNet.yv);
  }

  @Benchmark
  public float step() {
    List<Tensor> out = session.run(feeds, net.loss, net.newW1, net.newW2);
    return out.get(0).floatValue();
  }

  @Benchmark
  public float stepAssignsAsTargets() {
    return targets.run().get(0).floatValue();
  }

  @Benchmark
  public float stepNoCopy() {
    try (Result r = fetchAll.runNoCopy()) {
      return r.get(0).floatValue();
    }
  }

  @Benchmark
  public float stepHandWritten() {
    List<Tensor> out = handSession.run(handFeeds, handNet.loss, handNet.newW1, handNet.newW2);
    return out.get(0).floatValue();
  }

  @TearDown
  public void tearDown() {
    session.close();
    handSession.close();
  }
}
