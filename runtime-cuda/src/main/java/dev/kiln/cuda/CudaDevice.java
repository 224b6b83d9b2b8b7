package dev.kiln.cuda;

import dev.kiln.graph.Operation;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.KernelRegistry;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.SessionOptions;
import dev.kiln.runtime.spi.Device;
import dev.kiln.runtime.spi.DeviceSession;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/** An opened CUDA GPU, as the Session's device discovery sees it. */
public final class CudaDevice implements Device {
  final CudaContext ctx;

  CudaDevice(CudaContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public DeviceDescription description() {
    return ctx.description;
  }

  /**
   * The CUDA kernels ({@link CudaKernels}): state and views always (a variable lives where its readers
   * run), otherwise the op types the code generator has a kernel for.
   */
  @Override
  public KernelRegistry kernels() {
    return CudaKernels.REGISTRY;
  }

  /** A plain {@code new Session(graph)} runs here: a {@link CudaSession} with the Session's optimizer. */
  @Override
  public Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer) {
    return openSession(graph, optimizer, SessionOptions.defaults());
  }

  /** As above, with the Session's CUDA-graph replay choice ({@link SessionOptions#graphReplay()}). */
  @Override
  public Optional<DeviceSession> openSession(Graph graph, UnaryOperator<Program> optimizer, SessionOptions options) {
    CudaSession s = new CudaSession(graph, this, optimizer).cudaGraphs(options.graphReplay())
        .maxCachedPlans(options.maxCachedPlans());
    return Optional.of(new DeviceSession() {
      @Override
      public List<Tensor> run(Output[] fed, Tensor[] values, Output[] fetches, Operation[] targets) {
        return s.run(fed, values, fetches, targets);
      }

      @Override
      public Tensor variableValue(Variable v) {
        return s.variableValue(v);
      }

      @Override
      public Map<Variable, Tensor> variableValues(List<Variable> vars) {
        return s.variableValues(vars);
      }

      @Override
      public void assignVariables(Map<Variable, Tensor> values) {
        s.assignVariables(values);
      }

      @Override
      public void close() {
        s.close();
      }
    });
  }

  @Override
  public void close() {
    ctx.close();
  }
}
