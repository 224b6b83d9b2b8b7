package dev.kiln.bench;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.optimizer.Optimizer;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.CpuConstantEvaluator;
import dev.kiln.runtime.PlanCompilation;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import java.util.Map;
import java.util.Set;
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
 * What the ahead-of-time step costs: compiling one plan (validation, the optimizer pipeline when
 * {@code optimize} is true, scheduling, buffer assignment, kernel binding), for W1's training step
 * (x, y fed; loss, new_w1, new_w2 fetched; 43 nodes) and W4's 1,000-op chain (1,004 nodes); and the
 * optimizer pipeline alone on the same programs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PlanCompile {
  @Param({"W1", "chain1000"})
  public String graph;

  @Param({"true", "false"})
  public boolean optimize;

  private Session session;
  private Map<Output, Tensor> feeds;
  private Output[] fetches;
  private Operation[] targets = new Operation[0];
  private Program program;
  private PassManager pipeline;

  @Setup
  public void setUp() {
    SessionOptions options = SessionOptions.builder().optimize(optimize).build();
    if (graph.equals("W1")) {
      Workloads.TwoLayer net = new Workloads.TwoLayer();
      session = new Session(net.graph, options);
      feeds = Map.of(net.x, net.xv, net.y, net.yv);
      fetches = new Output[] {net.loss, net.newW1, net.newW2};
    } else {
      Workloads.Dispatch w = new Workloads.Dispatch();
      session = new Session(w.graph, options);
      feeds = Map.of(w.x, w.xv);
      fetches = new Output[] {w.y};
    }
    program = new Program(session.graph(), java.util.List.of(fetches), java.util.List.of(), feeds.keySet());
    pipeline = Optimizer.defaultPipeline(CpuConstantEvaluator.instance(), dev.kiln.runtime.CpuKernels.registry(), Set.of());
  }

  @Benchmark
  public int compilePlan() {
    return PlanCompilation.compile(session, feeds, fetches, targets);
  }

  @Benchmark
  public int optimizerOnly() {
    return optimize ? pipeline.run(program).graph().size() : 0;
  }

  @TearDown
  public void tearDown() {
    session.close();
  }
}
