package dev.kiln.cuda;

import static dev.kiln.cuda.Cu.check;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.Variable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/**
 * The GPU benchmarks, run by {@code scripts/gpu-check.sh} on the GPU machine:
 *
 * <ul>
 *   <li>W2: wide-MLP training step (784 -> 1024 -> 1024 -> 10, relu, softmax cross-entropy, SGD,
 *       gradients written as graph ops) at batch 256 and 4096, data resident on the device; ms/step
 *       (each step fetches the loss, so it synchronizes once); also replayed as one CUDA graph.
 *   <li>W3: y = tanh(exp(-x*x) * 0.5 + sigmoid(x)) * x - 1 over 4,194,304 and 268,435,456 floats,
 *       x and y device variables; as separate ops and as one Fused node (what the fusion pass makes);
 *       GB/s (8 bytes per element: one read, one write) against device-to-device copy bandwidth.
 * </ul>
 *
 * Usage: {@code GpuBench [results-file]}; prints a table and appends it to the file.
 */
public final class GpuBench {
  /** A Session that runs its plans step by step (no CUDA-graph replay), to compare with the default. */
  private static final SessionOptions STEP_BY_STEP = SessionOptions.builder().graphReplay(false).build();

  private GpuBench() {}

  private static Path results;

  public static void main(String[] args) throws IOException {
    if (!CudaAvailable.isAvailable()) {
      System.err.println("no CUDA device: " + CudaAvailable.reason());
      System.exit(2);
    }
    results = args.length > 0 ? Path.of(args[0]) : null;
    CudaDevice device = (CudaDevice) dev.kiln.runtime.spi.Devices.discovered()
        .orElseThrow(() -> new IllegalStateException("device discovery found no CUDA device"));
    CudaContext ctx = device.ctx;
    line("# Kiln GPU benchmarks on " + ctx.description + ", matmul via " + ctx.gemm.description());
    line("workload | size | kiln | unit");
    for (int batch : new int[] {256, 4096}) {
      W2 w = new W2(batch);
      try (Session s = new Session(w.g)) {
        line("W2 train step, Session (default: optimized, CUDA graph replay, on " + s.device().map(d -> d.name()).orElse("CPU!")
            + ") | batch " + batch + " | " + fmt(w.msPerStep(runner(s))) + " | ms/step");
      }
      try (Session s = new Session(w.g, STEP_BY_STEP)) {
        line("W2 train step, Session, step by step (-Dkiln.cuda.graphs=false) | batch " + batch + " | "
            + fmt(w.msPerStep(runner(s))) + " | ms/step");
      }
      try (CudaSession s = new CudaSession(w.g, device, GpuBench::optimize)) {
        w.msPerStep(runner(s));
        line("W2 train step, device time (events) | batch " + batch + " | "
            + fmt(s.deviceMillisPerRun(List.of(w.loss), List.of(w.train), 50)) + " | ms/step");
        Map<String, Double> byNode = s.profile(List.of(w.loss), List.of(w.train), 20);
        double sum = byNode.values().stream().mapToDouble(Double::doubleValue).sum();
        line("  profile, batch " + batch + ": " + byNode.size() + " device steps, " + fmt(sum) + " ms in steps; the largest:");
        byNode.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(14)
            .forEach(e -> quiet("    " + fmt(e.getValue() * 1e3) + " us  " + e.getKey()));
      }
    }
    for (int n : new int[] {4_194_304, 268_435_456}) {
      line("D2D copy | " + n + " floats | " + fmt(copyBandwidth(ctx, n)) + " | GB/s");
      W3 w = new W3(n, false);
      try (Session s = new Session(w.g)) {
        line("W3 chain, Session (default: fused, CUDA graph replay) | " + n + " floats | " + fmt(w.gbPerSecond(s::run)) + " | GB/s");
      }
      try (Session s = new Session(w.g, STEP_BY_STEP)) {
        line("W3 chain, Session, step by step | " + n + " floats | " + fmt(w.gbPerSecond(s::run)) + " | GB/s");
      }
      try (CudaSession s = new CudaSession(w.g, device)) {
        line("W3 chain, CudaSession, separate ops | " + n + " floats | " + fmt(w.gbPerSecond(s::run)) + " | GB/s");
      }
      W3 f = new W3(n, true);
      try (CudaSession s = new CudaSession(f.g, device)) {
        double gbs = f.gbPerSecond(s::run);
        line("W3 chain, CudaSession, one Fused node | " + n + " floats | " + fmt(gbs) + " | GB/s");
        line("  (wall per run " + fmt(8.0 * n / gbs / 1e3) + " us)");
        double ms = s.deviceMillisPerRun(List.of(), List.of(f.step), n > 10_000_000 ? 20 : 200);
        line("W3 chain, one Fused node, device time (events) | " + n + " floats | " + fmt(8.0 * n / (ms / 1e3) / 1e9) + " | GB/s");
      }
    }
  }

  /** The Session's default optimizer pipeline. */
  private static dev.kiln.optimizer.Program optimize(dev.kiln.optimizer.Program p) {
    return dev.kiln.optimizer.Optimizer.defaultPipeline(dev.kiln.runtime.CpuConstantEvaluator.instance(),
        dev.kiln.runtime.CpuKernels.registry(), java.util.Set.of()).run(p);
  }

  private static void quiet(String text) {
    try {
      line(text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Prints a result line now and appends it to the results file (so a later failure keeps it). */
  private static void line(String text) throws IOException {
    System.out.println(text);
    if (results != null) {
      Files.writeString(results, text + "\n", java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }
  }

  private static String fmt(double v) {
    return String.format(java.util.Locale.ROOT, "%.3f", v);
  }

  private static Runner runner(Session s) {
    return (feeds, fetches, targets) -> {
      Session.Runner r = s.runner();
      feeds.forEach(r::feed);
      fetches.forEach(r::fetch);
      targets.forEach(r::addTarget);
      return r.run();
    };
  }

  private static Runner runner(CudaSession s) {
    return s::run;
  }

  /** Runs targets (Session::run and CudaSession::run). */
  private interface TargetRunner {
    void run(Operation... targets);
  }

  /** How a benchmark runs one step: feeds (none here), fetches, targets. */
  private interface Runner {
    List<dev.kiln.graph.Tensor> run(Map<Output, dev.kiln.graph.Tensor> feeds, List<Output> fetches, List<Operation> targets);
  }

  /** W2: the wide-MLP training step, data resident on the device (variables). */
  private static final class W2 {
    final Graph g = new Graph();
    final int batch;
    final Output loss;
    final Operation train;
    final Operation init;

    W2(int batch) {
      this.batch = batch;
      Ops tf = Ops.create(g);
      int in = 784;
      int hid = 1024;
      int out = 10;
      Variable x = tf.variable("x", tf.randomNormal(Shape.of(batch, in), 1));
      Variable labels = tf.variable("labels", tf.cast(tf.mul(tf.randomUniform(Shape.of(batch), 2), tf.constant(9.99f)), DType.INT32));
      Variable w1 = tf.variable("w1", tf.mul(tf.randomNormal(Shape.of(in, hid), 3), tf.constant(0.03f)));
      Variable w2 = tf.variable("w2", tf.mul(tf.randomNormal(Shape.of(hid, hid), 4), tf.constant(0.03f)));
      Variable w3 = tf.variable("w3", tf.mul(tf.randomNormal(Shape.of(hid, out), 5), tf.constant(0.03f)));
      Output h1 = tf.matmul(x, w1);
      Output a1 = tf.relu(h1);
      Output h2 = tf.matmul(a1, w2);
      Output a2 = tf.relu(h2);
      Output logits = tf.matmul(a2, w3);
      Output y = tf.oneHot(labels, out, DType.FLOAT32);
      Output n = tf.constant((float) batch);
      loss = tf.div(tf.neg(tf.reduceSum(tf.mul(y, tf.logSoftmax(logits)))), n);
      Output zero = tf.constant(0f);
      Output g3 = tf.div(tf.sub(tf.softmax(logits), y), n);
      Output gw3 = tf.matmul(a2, g3, true, false);
      Output ga2 = tf.matmul(g3, w3, false, true);
      Output gh2 = tf.select(tf.greater(h2, zero), ga2, tf.zerosLike(ga2));
      Output gw2 = tf.matmul(a1, gh2, true, false);
      Output ga1 = tf.matmul(gh2, w2, false, true);
      Output gh1 = tf.select(tf.greater(h1, zero), ga1, tf.zerosLike(ga1));
      Output gw1 = tf.matmul(x, gh1, true, false);
      Output lr = tf.constant(0.01f);
      train = tf.group(tf.assignSub(w1, tf.mul(lr, gw1)).op(), tf.assignSub(w2, tf.mul(lr, gw2)).op(),
          tf.assignSub(w3, tf.mul(lr, gw3)).op());
      init = tf.globalVariablesInitializer();
    }

    /** ms per step, the loss fetched (so each step synchronizes once), after 20 warm-up steps. */
    double msPerStep(Runner r) {
      r.run(Map.of(), List.of(), List.of(init));
      for (int i = 0; i < 20; i++) {
        r.run(Map.of(), List.of(loss), List.of(train));
      }
      int steps = batch >= 4096 ? 100 : 300;
      long t0 = System.nanoTime();
      for (int i = 0; i < steps; i++) {
        r.run(Map.of(), List.of(loss), List.of(train));
      }
      return (System.nanoTime() - t0) / 1e6 / steps;
    }
  }

  /** W3: y = chain(x) over n floats, x and y variables; as separate ops or as one Fused node. */
  private static final class W3 {
    final Graph g = new Graph();
    final int n;
    final Operation step;
    final Operation init;

    W3(int n, boolean fused) {
      this.n = n;
      Ops tf = Ops.create(g);
      Variable x = tf.variable("x", tf.randomNormal(Shape.of(n), 21));
      Variable y = tf.variable("y", tf.fill(Shape.of(n), tf.constant(0f)));
      Output result;
      if (fused) {
        Graph b = new Graph();
        Ops bt = Ops.create(b);
        Output p = b.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.of(n)).build().output(0);
        Output r = chain(bt, p);
        result = tf.opBuilder("Fused").addInput(x).addSubgraph(new Subgraph(b, List.of(p), List.of(r))).build().output(0);
      } else {
        result = chain(tf, x);
      }
      step = tf.assign(y, result).op();
      init = tf.globalVariablesInitializer();
    }

    /** GB/s (8 bytes per element: x read, y written), each run synchronizing. */
    double gbPerSecond(TargetRunner run) {
      run.run(init);
      for (int i = 0; i < 5; i++) {
        run.run(step);
      }
      int runs = n > 10_000_000 ? 50 : 500;
      long t0 = System.nanoTime();
      for (int i = 0; i < runs; i++) {
        run.run(step);
      }
      double seconds = (System.nanoTime() - t0) / 1e9 / runs;
      return 8.0 * n / seconds / 1e9;
    }
  }

  private static Output chain(Ops tf, Output x) {
    Output e = tf.exp(tf.mul(tf.neg(x), x));
    Output t = tf.tanh(tf.add(tf.mul(e, tf.constant(0.5f)), tf.sigmoid(x)));
    return tf.sub(tf.mul(t, x), tf.constant(1f));
  }

  /** Device-to-device copy of {@code n} floats, GB/s counting read and write, timed with events. */
  static double copyBandwidth(CudaContext ctx, int n) {
    ctx.makeCurrent();
    long bytes = 4L * n;
    CUdeviceptr a = ctx.allocate(bytes, "copy source");
    CUdeviceptr b = ctx.allocate(bytes, "copy target");
    CUevent start = new CUevent();
    CUevent stop = new CUevent();
    try {
      check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
      check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
      for (int i = 0; i < 3; i++) {
        check(JCudaDriver.cuMemcpyDtoDAsync(b, a, bytes, ctx.stream), "cuMemcpyDtoDAsync");
      }
      int reps = n > 10_000_000 ? 20 : 200;
      check(JCudaDriver.cuEventRecord(start, ctx.stream), "cuEventRecord");
      for (int i = 0; i < reps; i++) {
        check(JCudaDriver.cuMemcpyDtoDAsync(b, a, bytes, ctx.stream), "cuMemcpyDtoDAsync");
      }
      check(JCudaDriver.cuEventRecord(stop, ctx.stream), "cuEventRecord");
      check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
      float[] ms = new float[1];
      check(JCudaDriver.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
      return 2.0 * bytes * reps / (ms[0] / 1e3) / 1e9;
    } finally {
      JCudaDriver.cuEventDestroy(start);
      JCudaDriver.cuEventDestroy(stop);
      ctx.free(a);
      ctx.free(b);
    }
  }
}
