package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Place;
import dev.kiln.optimizer.Program;
import dev.kiln.optimizer.Prune;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Placement with the CUDA runtime's real kernel table, on a fake GPU description (no GPU needed). */
class CudaPlacementTest {
  @Test
  void theTrainingStepRunsOnTheGpuWithCopiesOnlyForTheFeeds() {
    CudaSessionTest.Net net = new CudaSessionTest.Net(8, 16, 4, 0.1f, 1);
    Program p = new Program(net.g, List.of(net.loss), List.of(net.train), Set.of(net.x, net.labels));
    Program placed = new PassManager(List.of(new Prune(), new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY))).run(p);
    Set<String> onHost = new TreeSet<>();
    Set<String> copies = new TreeSet<>();
    for (Operation op : placed.graph().operations()) {
      if (op.device().equals("/cpu:0")) {
        onHost.add(op.name() + ":" + op.type());
      }
      if (op.type().startsWith("CopyTo")) {
        copies.add(op.type() + "(" + op.input(0).name() + ")");
      }
    }
    // The feeds arrive on the host; the train target is a NoOp (no data). Everything else,
    // including the variables' initial values' Variable nodes and the assigns, is on the device.
    assertEquals(Set.of("labels:Placeholder", "x:Placeholder", "train:NoOp"), onHost);
    assertEquals(Set.of("CopyToDevice(labels)", "CopyToDevice(x)"), copies);
  }

  @Test
  void theKernelTableKnowsWhatItCannotRun() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    Output b = tf.placeholder("b", DType.BOOL, Shape.of(2, 3));
    Output i = tf.placeholder("i", DType.INT32, Shape.of(2, 3));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.concat(List.of(x, x), 0).op()));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.slice(x, new int[] {0, 0}, new int[] {1, 2}).op()));
    assertFalse(CudaKernels.REGISTRY.hasKernel(tf.matmul(i, tf.transpose(i)).op()), "integer products stay on the host");
    Output w = tf.placeholder("w", DType.FLOAT32, Shape.of(3, 3));
    assertTrue(CudaKernels.REGISTRY.hasKernel(g.opBuilder("Gemm", "update").addInput(x).addInput(x).addInput(w)
        .setAttr("transpose_a", true).build()), "the CPU pipeline's Gemm (an SGD update) runs on the device");
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.logicalNot(b).op()));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.reduceSum(i, new int[] {0}, false).op()));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.variable("v", tf.constant(1f)).op()));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.reshape(x, 3, 2).op()));
    assertTrue(CudaKernels.REGISTRY.hasKernel(tf.softmax(x).op()));
  }
  @Test
  void theFusedLossReductionOfTheTrainingStepRunsOnTheGpu() {
    CudaSessionTest.Net net = new CudaSessionTest.Net(8, 16, 4, 0.1f, 1);
    Program p = new Program(net.g, List.of(net.loss), List.of(net.train), Set.of(net.x, net.labels));
    Program placed = new PassManager(List.of(new Prune(), new dev.kiln.optimizer.FuseElementwise(dev.kiln.runtime.CpuKernels.registry()),
        new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY))).run(p);
    Set<String> fusedReductions = new TreeSet<>();
    Set<String> onHost = new TreeSet<>();
    for (Operation op : placed.graph().operations()) {
      if (op.type().equals("Fused")) {
        for (Operation b : op.subgraphs().get(0).graph().operations()) {
          if (b.type().equals("Sum")) {
            fusedReductions.add(op.device() + " " + b.input(0).op().type() + "->Sum");
          }
        }
      }
      if (op.device().equals("/cpu:0")) {
        onHost.add(op.name() + ":" + op.type());
      }
    }
    // The cross-entropy Sum(OneHot * logp) ends a Fused body, which stays on the device with the rest.
    assertEquals(Set.of("/gpu:0 Mul->Sum"), fusedReductions);
    assertEquals(Set.of("labels:Placeholder", "x:Placeholder", "train:NoOp"), onHost);
  }
}
