package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.data.Batch;
import dev.kiln.data.Dataset;
import dev.kiln.data.Mnist;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.nn.Initializer;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Losses;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.Reduction;
import dev.kiln.nn.Sequential;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import dev.kiln.train.Adam;
import dev.kiln.train.GradientDescent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A plain {@code new Session(graph)} on a machine with a GPU runs on it (device discovery through
 * ServiceLoader), keeps the CPU Session's guarantees, and trains the MNIST example's model to the
 * same loss curve as the CPU. Skipped (with the reason) where there is no GPU.
 */
class SessionOnGpuTest {
  private static float scalar(Tensor t) {
    return ((float[]) HostBuffers.array(t))[0];
  }

  /** What a Session does, or the message it fails with. */
  private static String outcome(Function<Session, Object> run, Session s) {
    try {
      Object r = run.apply(s);
      if (r instanceof List<?> l) {
        List<String> out = new ArrayList<>();
        for (Object t : l) {
          out.add(java.util.Arrays.toString((float[]) HostBuffers.array((Tensor) t)));
        }
        return out.toString();
      }
      return String.valueOf(r);
    } catch (RuntimeException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  @Test
  void aPlainSessionRunsOnTheGpuWithTheCpuSessionsSemanticsAndErrors() {
    GpuSupport.assumeGpu();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 3));
    Variable w = tf.variable("w", tf.constant(new float[] {1, 2, 3}));
    Output y = tf.mul(tf.exp(x), w);
    Operation bump = tf.assignAdd(w, tf.constant(new float[] {10, 20, 30})).op();
    Output reread = tf.withControlDependencies(List.of(bump)).identity(w);
    Tensor xv = Tensor.of(new float[] {0, 1, 2, -1, 0, 1}, 2, 3);
    List<Function<Session, Object>> scenarios = List.of(
        s -> s.run(Map.of(x, xv), y), // uninitialized variable: fails before anything runs
        s -> { s.run(tf.globalVariablesInitializer()); return "initialized"; },
        s -> s.runner().feed(x, xv).fetch(y).addTarget(bump).run(), // reads see w from before the run's assign
        s -> s.run(Map.of(), reread), // ordered after its own assign by a control dependency
        s -> List.of(s.variableValue(w)),
        s -> s.run(Map.of(x, Tensor.of(new float[] {1, 2}, 2)), y), // wrong shape
        s -> s.run(Map.of(), y), // unfed placeholder
        s -> { s.assignVariables(Map.of(w, Tensor.of(new float[] {-1, -2, -3}, 3))); return List.of(s.variableValue(w)); },
        s -> s.run(Map.of(x, xv), y));
    List<String> cpu = new ArrayList<>();
    List<String> gpu = new ArrayList<>();
    try (Session c = new Session(g, GpuSupport.CPU); Session s = new Session(g)) {
      assertEquals("/gpu:0", s.device().orElseThrow().name(), "a plain Session runs on the GPU");
      assertTrue(c.device().isEmpty());
      for (Function<Session, Object> run : scenarios) {
        cpu.add(outcome(run, c));
        gpu.add(outcome(run, s));
      }
    }
    assertEquals("IllegalStateException: Variable 'w' is uninitialized: run its initializer first", gpu.get(0));
    assertEquals("[[21.0, 42.0, 63.0]]", gpu.get(4)); // two runs of bump
    assertEquals("IllegalArgumentException: Placeholder 'x': fed f32[2], expected f32[?,3]", gpu.get(5));
    assertEquals("IllegalArgumentException: Placeholder 'x': no value fed for f32[?,3] (the run needs it)", gpu.get(6));
    // Floats from exp may differ in the last bit between the CPU and the GPU: compare those within 1e-6.
    for (int i = 0; i < scenarios.size(); i++) {
      if (i == 2 || i == 8) {
        assertClose(cpu.get(i), gpu.get(i));
      } else {
        assertEquals(cpu.get(i), gpu.get(i), "scenario " + i);
      }
    }
  }

  private static void assertClose(String cpu, String gpu) {
    String[] a = cpu.replaceAll("[\\[\\] ]", "").split(",");
    String[] b = gpu.replaceAll("[\\[\\] ]", "").split(",");
    assertEquals(a.length, b.length, cpu + " vs " + gpu);
    for (int i = 0; i < a.length; i++) {
      double u = Double.parseDouble(a[i]);
      double v = Double.parseDouble(b[i]);
      assertTrue(Math.abs(u - v) <= 1e-6 * Math.max(1, Math.abs(u)), cpu + " vs " + gpu);
    }
  }

  /**
   * The MNIST example's model (784 -> 128 -> ReLU -> 10, He-uniform init, sparse softmax
   * cross-entropy, Adam) on 512 real digits, 2 epochs of batch 64: the loss of every step on the GPU
   * is within 1e-4 (relative) of the CPU's.
   */
  @Test
  void theMnistModelsLossCurveMatchesTheCpu() {
    GpuSupport.assumeGpu();
    Dataset digits = Mnist.load().slice(0, 512);
    List<Batch> batches = new ArrayList<>();
    for (int epoch = 0; epoch < 2; epoch++) {
      digits.batches(64, 1234 + epoch).forEach(batches::add);
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));
    Output labels = tf.placeholder("y", DType.INT32, Shape.of(-1));
    Sequential model = Sequential.of(new Linear(784, 128).withInitializer(Initializer.HE_UNIFORM).withSeed(1234),
        new ReLU(), new Linear(128, 10).withSeed(1235));
    Output logits = model.apply(tf, tf.div(tf.sub(x, tf.constant(0.1307f)), tf.constant(0.3081f)));
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, logits, labels, Reduction.MEAN);
    Operation train = new Adam(1e-3).minimize(loss);
    Operation init = tf.globalVariablesInitializer();
    List<Float> cpu = new ArrayList<>();
    List<Float> gpu = new ArrayList<>();
    try (Session c = new Session(g, GpuSupport.CPU); Session s = new Session(g)) {
      assertTrue(s.device().isPresent(), "the GPU Session");
      c.run(init);
      s.run(init);
      for (Batch b : batches) {
        cpu.add(scalar(c.runner().feed(x, b.features()).feed(labels, b.labels()).fetch(loss).addTarget(train).run().get(0)));
        gpu.add(scalar(s.runner().feed(x, b.features()).feed(labels, b.labels()).fetch(loss).addTarget(train).run().get(0)));
      }
    }
    assertEquals(16, cpu.size());
    for (int i = 0; i < cpu.size(); i++) {
      float rel = Math.abs(gpu.get(i) - cpu.get(i)) / Math.abs(cpu.get(i));
      assertTrue(rel <= 1e-4, "step " + i + ": gpu loss " + gpu.get(i) + ", cpu loss " + cpu.get(i) + "\ncpu " + cpu + "\ngpu " + gpu);
    }
    assertTrue(cpu.get(15) < 0.8 * cpu.get(0), "the model learns: " + cpu);
  }

  /**
   * Plain SGD on the same model: on the GPU the optimizer turns each weight update into a Gemm that
   * cuBLAS accumulates straight into the variable; its loss curve stays within 1e-4 (relative) of
   * the CPU Session's with the optimizer switched off (the updates as written: MatMul, Mul, Sub).
   */
  @Test
  void sgdUpdatesFusedIntoGemmsMatchTheUnoptimizedCpu() {
    GpuSupport.assumeGpu();
    Dataset digits = Mnist.load().slice(0, 512);
    List<Batch> batches = new ArrayList<>();
    digits.batches(64, 99).forEach(batches::add);
    digits.batches(64, 100).forEach(batches::add);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 784));
    Output labels = tf.placeholder("y", DType.INT32, Shape.of(-1));
    Sequential model = Sequential.of(new Linear(784, 128).withInitializer(Initializer.HE_UNIFORM).withSeed(7),
        new ReLU(), new Linear(128, 10).withSeed(8));
    Output loss = Losses.sparseSoftmaxCrossEntropy(tf, model.apply(tf, x), labels, Reduction.MEAN);
    Operation train = new GradientDescent(0.05).minimize(loss);
    Operation init = tf.globalVariablesInitializer();
    List<Float> cpu = new ArrayList<>();
    List<Float> gpu = new ArrayList<>();
    SessionOptions unoptimized = SessionOptions.builder().device("/cpu:0").optimize(false).build();
    try (Session c = new Session(g, unoptimized); Session s = new Session(g)) {
      assertTrue(s.device().isPresent(), "the GPU Session");
      c.run(init);
      s.run(init);
      for (Batch b : batches) {
        cpu.add(scalar(c.runner().feed(x, b.features()).feed(labels, b.labels()).fetch(loss).addTarget(train).run().get(0)));
        gpu.add(scalar(s.runner().feed(x, b.features()).feed(labels, b.labels()).fetch(loss).addTarget(train).run().get(0)));
      }
    }
    for (int i = 0; i < cpu.size(); i++) {
      float rel = Math.abs(gpu.get(i) - cpu.get(i)) / Math.abs(cpu.get(i));
      assertTrue(rel <= 1e-4, "step " + i + ": gpu loss " + gpu.get(i) + ", cpu loss " + cpu.get(i) + "\ncpu " + cpu + "\ngpu " + gpu);
    }
    assertTrue(cpu.get(cpu.size() - 1) < 0.8 * cpu.get(0), "the model learns: " + cpu);
  }
}
