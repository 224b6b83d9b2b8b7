package dev.kiln.runtime;

import dev.kiln.runtime.exec.PlanCompiler;
import dev.kiln.runtime.kernels.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.OpContext;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import dev.kiln.optimizer.KernelRegistry;
import dev.kiln.optimizer.Program;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The host's kernel registry: built-in kernels, what the fused kernel computes, user registrations. */
class CpuKernelRegistryTest {
  /** What the fuser fused before the registry ({@code FUSIBLE_TYPES} and {@code FUSIBLE_REDUCTIONS}), verbatim. */
  private static final Set<String> OLD_FUSIBLE = Set.of(
      "Neg", "Square", "Abs", "Sign", "Relu", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos",
      "Sigmoid", "Tanh", "LogicalNot", "ZerosLike", "OnesLike", "Cast",
      "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum",
      "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr",
      "Select", "AddN",
      "Sum", "Mean", "Max", "Min");

  private final KernelRegistry cpu = CpuKernels.registry();

  @Test
  void theHostFusesWhatTheFuserFusedBefore() {
    // Besides the old set, the fused kernel computes every elementwise op defined since (ElementwiseOp).
    Set<String> fused = new java.util.TreeSet<>();
    Set<String> expected = new java.util.TreeSet<>(OLD_FUSIBLE);
    for (String t : OpRegistry.types()) {
      if (Kernels.fuses(t)) {
        fused.add(t);
      }
      if (OpRegistry.get(t) instanceof dev.kiln.graph.ElementwiseOp) {
        expected.add(t);
      }
    }
    assertEquals(expected, fused);
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    assertTrue(cpu.canFuse(tf.exp(x).op()));
    assertTrue(cpu.canFuse(tf.reduceSum(x, new int[] {1}, false).op()));
    assertFalse(cpu.canFuse(tf.matmul(x, tf.transpose(x)).op()));
    assertFalse(cpu.canFuse(tf.reduceProd(x, new int[] {1}, false).op()));
    assertFalse(cpu.canFuse(tf.reshape(x, 3, 2).op()));
  }

  @Test
  void everyBuiltinOpTypeHasAKernelOnTheHost() {
    for (String t : OpRegistry.types()) {
      if (!t.startsWith("Test") && !t.equals("Parameter")) {
        assertTrue(cpu.opTypes().contains(t), t);
      }
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    for (Operation op : List.of(x.op(), tf.exp(x).op(), tf.identity(x).op(), tf.variable("v", x).op(), tf.noOp(),
        tf.randomUniform(Shape.of(2), 1).op())) {
      assertTrue(cpu.hasKernel(op), op.toString());
    }
  }

  /** y = 2x, elementwise: a user op, registered once for the JVM. */
  private static final String USER_OP = "TestRegistryTwice";

  private static synchronized boolean registerUserOp() {
    if (OpRegistry.find(USER_OP).isPresent()) {
      return false;
    }
    OpRegistry.register(new OpDef() {
      @Override
      public String type() {
        return USER_OP;
      }

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
        return List.of(ctx.input(0));
      }

      @Override
      public Set<OpTrait> traits() {
        return Set.of(OpTrait.ELEMENTWISE);
      }
    });
    return true;
  }

  private static void registerUserKernel() {
    CpuKernels.register(USER_OP, (inputs, attrs) -> {
      float[] v = inputs.get(0).toFloatArray();
      for (int i = 0; i < v.length; i++) {
        v[i] *= 2;
      }
      return List.of(Tensor.of(v, inputs.get(0).shape().dims()));
    });
  }

  @Test
  void aRegisteredUserKernelIsSeenAtOnceAndNeverFuses() {
    boolean fresh = registerUserOp();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(3));
    // neg(exp(x)) -> user -> sqrt(tanh(.)): two fusible pairs around the user op.
    Output a = tf.neg(tf.exp(x));
    Output u = tf.withName("u").opBuilder(USER_OP).addInput(a).build().output(0);
    Output y = tf.sqrt(tf.tanh(tf.neg(u)));
    if (fresh) {
      assertFalse(cpu.hasKernel(u.op()), "no kernel before it is registered");
      assertFalse(cpu.opTypes().contains(USER_OP));
    }
    registerUserKernel();
    assertTrue(cpu.hasKernel(u.op()));
    assertTrue(cpu.opTypes().contains(USER_OP));
    assertFalse(cpu.canFuse(u.op()), "no fused kernel computes a user op");

    Program optimized = PlanCompiler.optimize(new Program(g, List.of(y), List.of(), Set.of(x)), SessionOptions.defaults());
    List<String> types = optimized.graph().operations().stream().map(Operation::type).toList();
    assertEquals(2, types.stream().filter(t -> t.equals("Fused")).count(), types.toString());
    assertEquals(1, types.stream().filter(t -> t.equals(USER_OP)).count(), types.toString());

    float[] in = {0.1f, 0.5f, -1f};
    try (Session s = new Session(g, SessionOptions.builder().device("/cpu:0").build())) {
      float[] out = s.run(Map.of(x, Tensor.of(in, 3)), y).get(0).toFloatArray();
      for (int i = 0; i < in.length; i++) {
        double expected = Math.sqrt(Math.tanh(2 * Math.exp(in[i])));
        assertEquals(expected, out[i], 1e-6, "element " + i);
      }
    }
  }
}
