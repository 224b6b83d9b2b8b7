package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.OpContext;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KernelsTest {
  /** Ops the Session runs itself (sources and state); VIEW ops are aliased by the plan. */
  private static final Set<String> SESSION_OPS = Set.of("Placeholder", "Parameter", "Const", "RandomNormal",
      "RandomUniform", "Variable", "Assign", "AssignAdd", "AssignSub", "NoOp");

  /** A user op for these tests: y = x * attr("scale") + 1, same type as x; optional second output. */
  private record TestOp(String type, int outputs) implements OpDef {
    @Override
    public int minInputs() {
      return 1;
    }

    @Override
    public int maxInputs() {
      return 1;
    }

    @Override
    public List<TensorType> infer(OpContext ctx) {
      List<TensorType> out = new ArrayList<>();
      for (int i = 0; i < outputs; i++) {
        out.add(ctx.input(0));
      }
      return out;
    }
  }

  @BeforeAll
  static void registerTestOps() {
    for (String t : List.of("TestScaleUp", "TestWrongType", "TestWrongCount", "TestThrows", "TestNoKernel", "TestTwoOut")) {
      if (OpRegistry.find(t).isEmpty()) {
        OpRegistry.register(new TestOp(t, t.equals("TestTwoOut") ? 2 : 1));
      }
    }
  }

  @Test
  void everyBuiltinOpThatIsNotTheSessionsOrAViewHasAKernel() {
    Set<String> missing = new TreeSet<>();
    for (String type : OpRegistry.types()) {
      OpDef def = OpRegistry.get(type);
      if (!type.startsWith("Test") && !SESSION_OPS.contains(type) && !def.traits().contains(OpTrait.VIEW)
          && !Kernels.isBuiltin(type)) {
        missing.add(type);
      }
    }
    assertEquals(Set.of(), missing);
    for (String type : Kernels.builtinTypes()) {
      assertTrue(OpRegistry.find(type).isPresent(), type + " is an op type of graph-ir");
    }
  }

  @Test
  void unknownOpTypeHasNoKernel() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.factory("Foo"));
    assertEquals("no CPU kernel for op type 'Foo'", e.getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> Kernels.factory("TestNoKernel"));
    assertEquals("no CPU kernel for op type 'TestNoKernel'", e2.getMessage());
  }

  @Test
  void userKernelRunsThroughTheSpi() {
    List<Object> seen = new ArrayList<>();
    CpuKernels.register("TestScaleUp", (inputs, attrs) -> {
      Tensor x = inputs.get(0);
      seen.add(HostBuffers.array(x));
      float[] v = x.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (v[i] * attrs.getDouble("scale") + 1);
      }
      return List.of(Tensor.of(v, x.shape().dims()));
    });
    KernelHarness h = new KernelHarness();
    Output y = h.tf.opBuilder("TestScaleUp").addInput(h.input(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)))
        .setAttr("scale", 2.0).build().output(0);
    assertEquals(Tensor.of(new float[] {3, 5, 7, 9}, 2, 2), h.run(y));

    // An input whose slot holds exactly its elements is handed over without a copy.
    float[] slot = {1, 2, 3, 4};
    float[] out = new float[4];
    Kernel k = Kernels.factory("TestScaleUp").create(new KernelSpec(y.op(), List.of(y.op().input(0).type()),
        y.op().outputTypes(), new int[] {0}, new int[] {1}));
    k.run(new Object[] {slot, out});
    assertSame(slot, seen.get(seen.size() - 1));
    assertEquals(List.of(3f, 5f, 7f, 9f), List.of(out[0], out[1], out[2], out[3]));
  }

  @Test
  void userKernelWithTwoOutputs() {
    CpuKernels.register("TestTwoOut", (inputs, attrs) -> List.of(inputs.get(0), Tensor.of(new int[] {7, 8}, 2)));
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(new int[] {1, 2}, 2));
    List<Tensor> r = h.runAll(h.tf.opBuilder("TestTwoOut").addInput(x).build());
    assertEquals(List.of(Tensor.of(new int[] {1, 2}, 2), Tensor.of(new int[] {7, 8}, 2)), r);
  }

  @Test
  void userKernelResultsAreChecked() {
    CpuKernels.register("TestWrongType", (inputs, attrs) -> List.of(Tensor.of(new double[] {1, 2}, 2)));
    CpuKernels.register("TestWrongCount", (inputs, attrs) -> List.of(inputs.get(0), inputs.get(0)));
    CpuKernels.register("TestThrows", (inputs, attrs) -> {
      throw new UnsupportedOperationException("not today");
    });
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(new float[] {1, 2}, 2));
    Output wrongType = h.tf.withName("wt").opBuilder("TestWrongType").addInput(x).build().output(0);
    Output wrongCount = h.tf.withName("wc").opBuilder("TestWrongCount").addInput(x).build().output(0);
    Output fails = h.tf.withName("th").opBuilder("TestThrows").addInput(x).build().output(0);
    assertEquals("TestWrongType 'wt': CPU kernel returned f64[2] for output 0, expected f32[2]",
        assertThrows(IllegalStateException.class, () -> h.run(wrongType)).getMessage());
    assertEquals("TestWrongCount 'wc': CPU kernel returned 2 outputs, expected 1",
        assertThrows(IllegalStateException.class, () -> h.run(wrongCount)).getMessage());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.run(fails));
    assertEquals("TestThrows 'th': CPU kernel failed: java.lang.UnsupportedOperationException: not today", e.getMessage());
    assertTrue(e.getCause() instanceof UnsupportedOperationException);
  }

  @Test
  void builtinKernelsCannotBeReplaced() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CpuKernels.register("MatMul", (inputs, attrs) -> inputs));
    assertEquals("op type 'MatMul' has a built-in CPU kernel, which cannot be replaced", e.getMessage());
  }

  @Test
  void kernelsAllocateNothingPerRunOnTheSmallPath() {
    // 16-element ops run inline: repeated runs must not allocate (the Session's W4 path).
    KernelHarness h = new KernelHarness();
    Output a = h.input(KernelHarness.randomF32(1, 16));
    Output b = h.input(KernelHarness.randomF32(2, 16));
    List<Output> ops = List.of(h.tf.add(a, b), h.tf.mul(a, h.input(Tensor.scalar(1.0001f))),
        h.tf.reduceSum(a), h.tf.relu(a), h.tf.less(a, b));
    var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    for (Output y : ops) {
      List<TensorType> in = y.op().inputs().stream().map(Output::type).toList();
      int[] inSlots = new int[in.size()];
      Object[] frame = new Object[in.size() + 1];
      for (int i = 0; i < in.size(); i++) {
        inSlots[i] = i;
        frame[i] = HostBuffers.allocate(in.get(i).dtype(), (int) in.get(i).shape().numElements());
      }
      frame[in.size()] = HostBuffers.allocate(y.dtype(), Math.max(1, (int) y.shape().numElements()));
      Kernel k = Kernels.factory(y.op().type())
          .create(new KernelSpec(y.op(), in, y.op().outputTypes(), inSlots, new int[] {in.size()}));
      for (int i = 0; i < 20_000; i++) {
        k.run(frame); // warm up, let C2 compile
      }
      long before = bean.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 10_000; i++) {
        k.run(frame);
      }
      long allocated = bean.getCurrentThreadAllocatedBytes() - before;
      assertTrue(allocated < 10_000, y.op().type() + " allocated " + allocated + " bytes in 10,000 runs");
    }
  }

  @Test
  void shapesOfOneAndEmptyFlowThroughTheRegistry() {
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.zeros(DType.FLOAT32, Shape.of(0, 1)));
    assertEquals(Tensor.zeros(DType.FLOAT32, Shape.of(0, 1)), h.run(h.tf.exp(x)));
    assertEquals(Tensor.zeros(DType.FLOAT32, Shape.of(1)), h.run(h.tf.reduceSum(x, new int[] {0}, false)));
  }

  @Test
  void kernelsThatAllowInPlaceGiveTheSameResultWithOutputOnAnInput() {
    KernelHarness h = new KernelHarness();
    Output a = h.input(KernelHarness.randomF32(1, 4, 5));
    Output b = h.input(KernelHarness.randomF32(2, 4, 5));
    Output row = h.input(KernelHarness.randomF32(3, 5));
    Output c = h.input(KernelHarness.randomBool(4, 4, 1));
    Output positive = h.input(Ref.tensor(DType.FLOAT32, new int[] {4, 5}, i -> 0.5 + i * 0.1));
    List<Output> ys = List.of(h.tf.exp(a), h.tf.relu(a), h.tf.add(a, b), h.tf.sub(a, row), h.tf.div(row, a),
        h.tf.pow(positive, b), h.tf.maximum(a, b), h.tf.cast(a, DType.FLOAT32), h.tf.softmax(a),
        h.tf.logSoftmax(a, 0), h.tf.select(c, a, b), h.tf.addN(List.of(a, b, a)), h.tf.sigmoid(a));
    int checked = 0;
    for (Output y : ys) {
      List<TensorType> in = y.op().inputs().stream().map(Output::type).toList();
      for (int alias = 0; alias < in.size(); alias++) {
        if (!in.get(alias).equals(y.type()) || !Kernels.allowsInPlace(y.op().type(), alias)) {
          continue;
        }
        Tensor want = h.run(y);
        int[] inSlots = new int[in.size()];
        Object[] frame = new Object[in.size()];
        for (int i = 0; i < in.size(); i++) {
          inSlots[i] = i;
          Tensor v = h.valueOf(y.op().input(i));
          frame[i] = HostBuffers.allocate(v.dtype(), v.size());
          System.arraycopy(HostBuffers.array(v), 0, frame[i], 0, v.size());
        }
        Kernels.factory(y.op().type())
            .create(new KernelSpec(y.op(), in, y.op().outputTypes(), inSlots, new int[] {alias}))
            .run(frame);
        assertEquals(want, HostBuffers.adopt(y.dtype(), y.shape(), frame[alias]), y.op() + " in place on input " + alias);
        checked++;
      }
    }
    assertTrue(checked >= 15, "checked " + checked);
    assertTrue(!Kernels.allowsInPlace("MatMul", 0) && !Kernels.allowsInPlace("AddN", 1)
        && !Kernels.allowsInPlace("Select", 0) && !Kernels.allowsInPlace("Transpose", 0));
  }
}
