package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Place;
import dev.kiln.optimizer.Program;
import dev.kiln.optimizer.Prune;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * A small convolutional network's training step (conv + bias + relu, max pooling, batch norm, a
 * batched product, dense softmax cross-entropy, SGD on symbolic gradients): placed entirely on the
 * device (no GPU needed), and on a GPU its loss curve agrees with the CPU's.
 */
class CudaConvNetTest {
  static final class ConvNet {
    final Graph g = new Graph();
    final Ops tf = Ops.create(g);
    final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 8, 8, 2));
    final Output labels = tf.placeholder("labels", DType.INT32, Shape.of(-1));
    final Output loss;
    final Operation train;
    final Operation init;

    ConvNet(long seed) {
      Variable f = tf.variable("f", tf.mul(tf.randomNormal(Shape.of(3, 3, 2, 4), seed), tf.constant(0.3f)));
      Variable b = tf.variable("b", tf.fill(Shape.of(4), tf.constant(0f)));
      Variable gamma = tf.variable("gamma", tf.fill(Shape.of(4), tf.constant(1f)));
      Variable beta = tf.variable("beta", tf.fill(Shape.of(4), tf.constant(0f)));
      Variable mix = tf.variable("mix", tf.mul(tf.randomNormal(Shape.of(4, 4), seed + 1), tf.constant(0.5f)));
      Variable w = tf.variable("w", tf.mul(tf.randomNormal(Shape.of(64, 3), seed + 2), tf.constant(0.1f)));
      Output h = tf.relu(tf.biasAdd(tf.conv2d(x, f, new int[] {1, 1}, "SAME"), b));
      Output pooled = tf.maxPool(h, new int[] {2, 2}, new int[] {2, 2}, "VALID"); // [n,4,4,4]
      Output normed = tf.batchNorm(pooled, gamma, beta, tf.fill(Shape.of(4), tf.constant(0f)),
          tf.fill(Shape.of(4), tf.constant(1f)), 1e-3, true).get(0);
      Output mixed = tf.matmul(normed, tf.broadcastTo(mix, Shape.of(4, 4, 4))); // a batched product over rows
      Output logits = tf.matmul(tf.reshape(mixed, -1, 64), w);
      Output y = tf.oneHot(labels, 3, DType.FLOAT32);
      Output batch = tf.cast(tf.reduceSum(tf.onesLike(labels)), DType.FLOAT32);
      loss = tf.withName("loss").div(tf.neg(tf.reduceSum(tf.mul(y, tf.logSoftmax(logits)))), batch);
      List<Variable> vars = List.of(f, b, gamma, beta, mix, w);
      List<Output> grads = tf.gradients(loss, vars.stream().map(v -> (Output) v).toList());
      List<Operation> updates = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        updates.add(tf.assignSub(vars.get(i), tf.mul(tf.constant(0.05f), grads.get(i))).op());
      }
      train = tf.withName("train").group(updates.toArray(Operation[]::new));
      init = tf.globalVariablesInitializer();
    }
  }

  @Test
  void theConvolutionalTrainingStepIsPlacedOnTheDevice() {
    ConvNet net = new ConvNet(3);
    Program p = new Program(net.g, List.of(net.loss), List.of(net.train), Set.of(net.x, net.labels));
    Program placed = new PassManager(List.of(new Prune(), new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY))).run(p);
    Set<String> onHost = new TreeSet<>();
    for (Operation op : placed.graph().operations()) {
      if (op.device().equals("/cpu:0")) {
        onHost.add(op.name() + ":" + op.type());
      }
    }
    assertEquals(Set.of("labels:Placeholder", "x:Placeholder", "train:NoOp"), onHost);
  }

  @Test
  void afterTheSessionsOptimizerTheFusedConvolutionRunsOnTheDevice() {
    ConvNet net = new ConvNet(3);
    Program p = new Program(net.g, List.of(net.loss), List.of(net.train), Set.of(net.x, net.labels));
    Program optimized = dev.kiln.optimizer.Optimizer.defaultPipeline(dev.kiln.runtime.CpuConstantEvaluator.instance(),
        dev.kiln.runtime.CpuKernels.registry(), Set.of()).run(p);
    Program placed = new PassManager(List.of(new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY))).run(optimized);
    Set<String> onHost = new TreeSet<>();
    Set<String> types = new TreeSet<>();
    for (Operation op : placed.graph().operations()) {
      types.add(op.type() + "@" + op.device());
      if (op.device().equals("/cpu:0")) {
        onHost.add(op.name() + ":" + op.type());
      }
    }
    assertTrue(types.contains("FusedConv2D@/gpu:0"), "fuse_conv's FusedConv2D runs on the device: " + types);
    assertEquals(Set.of("labels:Placeholder", "x:Placeholder", "train:NoOp"), onHost);
  }

  @Test
  void theLossCurveAgreesWithTheCpu() {
    GpuSupport.assumeGpu();
    ConvNet net = new ConvNet(3);
    Random rnd = new Random(5);
    try (Session cpu = new Session(net.g, GpuSupport.CPU); Session gpu = new Session(net.g)) {
      assertEquals("/gpu:0", gpu.device());
      cpu.run(net.init);
      gpu.run(net.init);
      for (int step = 0; step < 20; step++) {
        int n = 16;
        float[] xs = new float[n * 8 * 8 * 2];
        int[] ls = new int[n];
        for (int i = 0; i < n; i++) {
          ls[i] = rnd.nextInt(3);
        }
        for (int i = 0; i < xs.length; i++) {
          xs[i] = (float) rnd.nextGaussian() + (i % 3 == ls[i / 128] ? 0.5f : 0f);
        }
        Tensor xt = Tensor.of(xs, n, 8, 8, 2);
        Tensor lt = HostBuffers.adopt(DType.INT32, Shape.of(n), ls);
        float c = ((float[]) HostBuffers.array(cpu.runner().feed(net.x, xt).feed(net.labels, lt).fetch(net.loss)
            .addTarget(net.train).run().get(0)))[0];
        float g = ((float[]) HostBuffers.array(gpu.runner().feed(net.x, xt).feed(net.labels, lt).fetch(net.loss)
            .addTarget(net.train).run().get(0)))[0];
        assertEquals(c, g, 1e-4 * Math.max(1, Math.abs(c)), "loss at step " + step);
      }
    }
  }
}
