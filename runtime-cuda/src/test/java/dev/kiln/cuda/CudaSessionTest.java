package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Whole graphs on the GPU against the CPU runtime. Needs a GPU; skipped without one. */
class CudaSessionTest {
  /** A two-layer network (softmax cross-entropy, hand-written gradients, SGD) as graph ops. */
  static final class Net {
    final Graph g = new Graph();
    final Ops tf = Ops.create(g);
    final Output x;
    final Output labels;
    final Variable w1;
    final Variable w2;
    final Output loss;
    final Operation train;
    final Operation init;

    Net(int in, int hidden, int out, float lr, long seed) {
      x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, in));
      labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
      w1 = tf.variable("w1", tf.mul(tf.randomNormal(Shape.of(in, hidden), seed), tf.constant(0.1f)));
      w2 = tf.variable("w2", tf.mul(tf.randomNormal(Shape.of(hidden, out), seed + 1), tf.constant(0.1f)));
      Output h = tf.matmul(x, w1);
      Output zero = tf.constant(0f);
      Output hRelu = tf.relu(h);
      Output logits = tf.matmul(hRelu, w2);
      Output y = tf.oneHot(labels, out, DType.FLOAT32);
      Output logp = tf.logSoftmax(logits);
      Output batch = tf.cast(tf.reduceSum(tf.onesLike(labels)), DType.FLOAT32);
      loss = tf.withName("loss").div(tf.neg(tf.reduceSum(tf.mul(y, logp))), batch);
      Output gradLogits = tf.div(tf.sub(tf.softmax(logits), y), batch);
      Output gradW2 = tf.matmul(hRelu, gradLogits, true, false);
      Output gradHRelu = tf.matmul(gradLogits, w2, false, true);
      Output gradH = tf.select(tf.greater(h, zero), gradHRelu, tf.zerosLike(gradHRelu));
      Output gradW1 = tf.matmul(x, gradH, true, false);
      Output rate = tf.constant(lr);
      train = tf.withName("train").group(tf.assignSub(w1, tf.mul(rate, gradW1)).op(),
          tf.assignSub(w2, tf.mul(rate, gradW2)).op());
      init = tf.globalVariablesInitializer();
    }
  }

  private static Tensor[] batch(Random rnd, int n, int in, int out) {
    float[] xs = new float[n * in];
    int[] ls = new int[n];
    for (int i = 0; i < n; i++) {
      ls[i] = rnd.nextInt(out);
      for (int j = 0; j < in; j++) {
        xs[i * in + j] = (float) rnd.nextGaussian() + (j % out == ls[i] ? 1f : 0f);
      }
    }
    return new Tensor[] {Tensor.of(xs, n, in), HostBuffers.adopt(DType.INT32, Shape.of(n), ls)};
  }

  private static float scalar(Tensor t) {
    return ((float[]) HostBuffers.array(t))[0];
  }

  @Test
  void twoLayerLossCurveMatchesTheCpu() {
    GpuSupport.assumeGpu();
    Net net = new Net(64, 128, 10, 0.1f, 5);
    List<Float> cpu = new ArrayList<>();
    List<Float> gpu = new ArrayList<>();
    try (Session s = new Session(net.g, GpuSupport.CPU); CudaSession c = new CudaSession(net.g)) {
      s.run(net.init);
      c.run(net.init);
      Random rnd = new Random(11);
      for (int step = 0; step < 100; step++) {
        Tensor[] b = batch(rnd, 32, 64, 10);
        Map<Output, Tensor> feeds = Map.of(net.x, b[0], net.labels, b[1]);
        cpu.add(scalar(s.runner().feed(net.x, b[0]).feed(net.labels, b[1]).fetch(net.loss).addTarget(net.train).run().get(0)));
        gpu.add(scalar(c.run(feeds, List.of(net.loss), List.of(net.train)).get(0)));
      }
      for (int i = 0; i < cpu.size(); i++) {
        float rel = Math.abs(gpu.get(i) - cpu.get(i)) / Math.abs(cpu.get(i));
        assertTrue(rel <= 1e-4, "step " + i + ": gpu loss " + gpu.get(i) + ", cpu loss " + cpu.get(i));
      }
      assertTrue(cpu.get(99) < cpu.get(0), "the network learns: " + cpu.get(0) + " -> " + cpu.get(99));
      GpuSupport.assertClose("w2 after training", s.variableValue(net.w2), c.variableValue(net.w2), 1e-4);
      assertEquals(1, c.planCount() - 1, "one plan for init, one for the training step");
    }
  }

  @Test
  void cudaGraphReplayGivesTheSameLossCurve() {
    GpuSupport.assumeGpu();
    Net net = new Net(64, 128, 10, 0.1f, 5);
    try (CudaSession plain = new CudaSession(net.g).cudaGraphs(false); CudaSession replay = new CudaSession(net.g).cudaGraphs(true)) {
      plain.run(net.init);
      replay.run(net.init);
      Random rnd = new Random(12);
      for (int step = 0; step < 30; step++) {
        Tensor[] b = batch(rnd, 32, 64, 10);
        Map<Output, Tensor> feeds = Map.of(net.x, b[0], net.labels, b[1]);
        float a = scalar(plain.run(feeds, List.of(net.loss), List.of(net.train)).get(0));
        float r = scalar(replay.run(feeds, List.of(net.loss), List.of(net.train)).get(0));
        assertEquals(a, r, Math.abs(a) * 1e-6, "step " + step);
      }
    }
  }

  @Test
  void planCacheIsBoundedAndEvictedPlansFreeDeviceMemory() {
    GpuSupport.assumeGpu();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 64));
    Output y = tf.reduceSum(tf.square(tf.add(x, tf.constant(1f))));
    try (CudaSession c = new CudaSession(g).maxCachedPlans(4)) {
      long before = -1;
      for (int batch = 1; batch <= 200; batch++) {
        float[] data = new float[batch * 64];
        java.util.Arrays.fill(data, 2f);
        float got = scalar(c.run(Map.of(x, Tensor.of(data, batch, 64)), List.of(y), List.of()).get(0));
        assertEquals(9f * batch * 64, got, 1e-3f * batch * 64, "batch " + batch);
        assertTrue(c.planCount() <= 4, "plans cached: " + c.planCount());
        if (batch == 8) {
          before = c.deviceFreeBytes();
        }
      }
      // Later plans are larger, but at most 4 are held: free memory stays within a few MB.
      assertTrue(before - c.deviceFreeBytes() < (16L << 20),
          "device memory held grew by " + (before - c.deviceFreeBytes()) + " bytes");
    }
  }

  @Test
  void tenThousandRunsLeaveDeviceMemoryFlat() {
    GpuSupport.assumeGpu();
    Net net = new Net(32, 64, 10, 0.05f, 7);
    try (CudaSession c = new CudaSession(net.g)) {
      c.run(net.init);
      Tensor[] b = batch(new Random(3), 16, 32, 10);
      Map<Output, Tensor> feeds = Map.of(net.x, b[0], net.labels, b[1]);
      c.run(feeds, List.of(net.loss), List.of(net.train));
      long held = c.deviceBytesInUse();
      long free = c.deviceFreeBytes();
      for (int i = 0; i < 10_000; i++) {
        c.run(feeds, List.of(net.loss), List.of(net.train));
      }
      assertEquals(held, c.deviceBytesInUse());
      assertEquals(free, c.deviceFreeBytes(), "free device memory after 10,000 runs");
    }
  }

  @Test
  void outOfMemoryNamesPeakAndFreeBytesAndLeavesTheSessionUsable() {
    GpuSupport.assumeGpu();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    Output small = tf.square(x);
    try (CudaSession c = new CudaSession(g)) {
      // One value bigger than the whole device: rows of 64 Mi floats (256 MiB each).
      long rows = c.device().memoryBytes() / (256L << 20) + 2;
      Output huge = tf.reduceSum(tf.randomUniform(Shape.of((int) rows, 64 << 20), 1));
      CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> c.run(Map.of(), huge));
      // The plan is named by its fetches as Kiln names values elsewhere: op type, node name, type.
      assertEquals("CUDA out of memory: the plan for [Sum '" + huge.name() + "' f32[]] (peak of its device arena) needs "
          + e.neededBytes() + " bytes of device memory, the device has " + e.freeBytes() + " bytes free (of "
          + e.totalBytes() + ")", e.getMessage());
      assertEquals(c.device().memoryBytes(), e.totalBytes());
      assertTrue(e.neededBytes() >= rows * (256L << 20), e.getMessage());
      assertTrue(e.freeBytes() < e.neededBytes(), e.getMessage());
      assertEquals(0, c.planCount());
      Tensor out = c.run(Map.of(x, Tensor.of(new float[] {1, 2, 3, 4}, 4)), small).get(0);
      assertEquals(List.of(1f, 4f, 9f, 16f), boxed((float[]) HostBuffers.array(out)));
    }
  }

  @Test
  void hostFallbackAndPinsRunWithCopiesAndAgreeWithTheCpu() {
    GpuSupport.assumeGpu();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3, 4));
    Output e = tf.exp(x);
    Output padded = tf.withDevice("/cpu:0").pad(e, 1, 0, 0, 2); // pinned to the host: copies around it
    Output c = tf.concat(List.of(padded, padded), 1); // back on the device
    Output pinned = tf.withDevice("/cpu:0").tanh(c); // pinned to the host
    Output ints = tf.cast(tf.matmul(tf.cast(x, DType.INT32), tf.cast(tf.transpose(x), DType.INT32)), DType.FLOAT32);
    pinned = tf.add(pinned, tf.reduceSum(ints)); // an integer product: no CUDA kernel, soft placement
    Output back = tf.softmax(tf.mul(pinned, tf.constant(3f)));
    Tensor xv = GpuSupport.random(new Random(1), DType.FLOAT32, Shape.of(3, 4), false);
    try (Session s = new Session(g, GpuSupport.CPU); CudaSession cs = new CudaSession(g)) {
      Tensor cpu = s.run(Map.of(x, xv), back).get(0);
      Tensor gpu = cs.run(Map.of(x, xv), back).get(0);
      GpuSupport.assertClose("softmax after host ops", cpu, gpu, 1e-5);
    }
  }

  @Test
  void uninitializedVariablesFailBeforeAnythingRuns() {
    GpuSupport.assumeGpu();
    Net net = new Net(8, 8, 4, 0.1f, 1);
    try (CudaSession c = new CudaSession(net.g)) {
      Tensor[] b = batch(new Random(1), 2, 8, 4);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> c.run(Map.of(net.x, b[0], net.labels, b[1]), List.of(net.loss), List.of()));
      assertEquals("Variable 'w1' is uninitialized: run its initializer first", e.getMessage());
    }
  }

  @Test
  void assignsOfKernelResultsAgreeWithTheCpuWhetherWrittenInPlaceOrNot() {
    GpuSupport.assumeGpu();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Variable v = tf.variable("v", tf.constant(Tensor.of(new float[] {1, 2, 3, 4}, 4)));
    Variable w = tf.variable("w", tf.constant(Tensor.of(new float[] {0, 0, 0, 0}, 4)));
    // v = v * 2 + 1, read again after by a reduction (so it may not be written in place early),
    // w = tanh(v) written in place (its only reader is the assign).
    Output twice = tf.reduceSum(tf.mul(v, tf.constant(3f)));
    Output newV = tf.assign(v, tf.add(tf.mul(v, tf.constant(2f)), tf.constant(1f)));
    Output newW = tf.assign(w, tf.tanh(v));
    Operation init = tf.globalVariablesInitializer();
    try (Session s = new Session(g, GpuSupport.CPU); CudaSession c = new CudaSession(g)) {
      s.run(init);
      c.run(init);
      for (int i = 0; i < 3; i++) {
        List<Tensor> cpu = s.run(Map.of(), twice, newV, newW);
        List<Tensor> gpu = c.run(Map.of(), List.of(twice, newV, newW), List.of());
        for (int k = 0; k < 3; k++) {
          GpuSupport.assertClose("run " + i + " fetch " + k, cpu.get(k), gpu.get(k), 1e-6);
        }
      }
      GpuSupport.assertClose("v", s.variableValue(v), c.variableValue(v), 1e-6);
      GpuSupport.assertClose("w", s.variableValue(w), c.variableValue(w), 1e-6);
    }
  }

  private static List<Float> boxed(float[] a) {
    List<Float> l = new ArrayList<>();
    for (float f : a) {
      l.add(f);
    }
    return l;
  }
}
