package dev.kiln.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.OpContext;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.ElementwiseOp;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.TensorType;
import dev.kiln.optimizer.DeviceDescription;
import dev.kiln.optimizer.Place;
import dev.kiln.optimizer.PassStatistics;
import dev.kiln.optimizer.Program;
import dev.kiln.runtime.CpuKernels;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernel registry against the name tables the code generator used to decide what the device
 * runs (copied here as they were), and the module's packages.
 */
class CudaKernelsTest {
  // The code generator's tables before the registry, verbatim.
  private static final Set<String> OLD_UNARY = Set.of("Neg", "Square", "Abs", "Sign", "Relu", "ZerosLike", "OnesLike",
      "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Sin", "Cos", "Sigmoid", "Tanh", "LogicalNot", "Cast", "Identity",
      "StopGradient");
  private static final Set<String> OLD_BINARY = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Less",
      "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr");
  private static final Set<String> OLD_ELEMENTWISE = union(OLD_UNARY, OLD_BINARY, Set.of("Select", "AddN", "Fill"));
  private static final Set<String> OLD_REDUCTIONS = Set.of("Sum", "Mean", "Max", "Min", "Prod", "ReduceSumLike");
  private static final Set<String> OLD_OTHERS = Set.of("Softmax", "LogSoftmax", "ArgMax", "OneHot", "RandomNormal",
      "RandomUniform", "Fused", "MatMul", "FusedMatMul", "Gemm", "Transpose", "Slice", "Pad", "Concat");
  /** The convolution, normalization and array ops added since, floating-point only. */
  private static final Set<String> ADDED_FLOATING = Set.of("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
      "FusedConv2D", "MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad", "BiasAdd", "BatchNorm", "BatchNormGrad", "LayerNorm",
      "LayerNormGrad", "BatchMatMul");
  /** Added since, any dtype (ArgMin: not bool, over an axis of known non-zero length). */
  private static final Set<String> ADDED_ANY = Set.of("Tile", "BroadcastTo", "Range", "Cumsum", "ArgMin", "TopK");
  /** The reductions the fused CUDA kernel folds ({@code CudaFusedReduction.TYPES}). */
  private static final Set<String> OLD_FUSED_REDUCTIONS = Set.of("Sum", "Mean", "Max", "Min");

  @SafeVarargs
  private static Set<String> union(Set<String>... sets) {
    Set<String> u = new TreeSet<>();
    for (Set<String> s : sets) {
      u.addAll(s);
    }
    return u;
  }

  /** {@code CudaDevice.hasKernelFor} and {@code CudaCodegen.supports} before the registry, verbatim. */
  private static boolean oldHasKernel(Operation op) {
    String t = op.type();
    if (op.def() instanceof ElementwiseOp) {
      return true; // ops defined since, all of them with a CUDA expression
    }
    if (t.equals("Variable") || t.equals("Const") || t.startsWith("Assign") || op.def().traits().contains(OpTrait.VIEW)) {
      return true;
    }
    if (t.equals("Fused")) {
      for (Operation b : op.subgraphs().get(0).graph().operations()) {
        if (!b.type().equals("Parameter") && !b.type().equals("Const") && !OLD_ELEMENTWISE.contains(b.type())
            && !OLD_REDUCTIONS.contains(b.type()) && !(b.def() instanceof ElementwiseOp)) {
          return false;
        }
      }
      return !CudaFusedReduction.hasReductions(op.subgraphs().get(0)) || CudaFusedReduction.supports(op);
    }
    if (t.equals("MatMul") || t.equals("FusedMatMul") || t.equals("Gemm") || t.equals("Softmax") || t.equals("LogSoftmax")) {
      return op.outputType(0).dtype().isFloating();
    }
    if (ADDED_FLOATING.contains(t)) {
      return op.outputType(0).dtype().isFloating();
    }
    if (t.equals("ArgMin")) {
      Shape s = op.input(0).shape();
      long a = op.attrs().getLong("axis");
      return op.input(0).dtype() != DType.BOOL && s.hasKnownRank() && s.rank() > 0 && s.dim((int) (a < 0 ? a + s.rank() : a)) > 0;
    }
    return OLD_ELEMENTWISE.contains(t) || OLD_REDUCTIONS.contains(t) || OLD_OTHERS.contains(t) || ADDED_ANY.contains(t);
  }

  /** The op types an ElementwiseOp defines; of them the primitives are nodes of fused bodies. */
  private static Set<String> definedElementwise(boolean primitivesOnly) {
    Set<String> types = new TreeSet<>();
    for (String t : OpRegistry.types()) {
      if (OpRegistry.get(t) instanceof ElementwiseOp e && !(primitivesOnly && e.isComposite())) {
        types.add(t);
      }
    }
    return types;
  }

  private static Set<String> viewTypes() {
    Set<String> views = new TreeSet<>();
    for (String t : OpRegistry.types()) {
      if (OpRegistry.get(t).traits().contains(OpTrait.VIEW)) {
        views.add(t);
      }
    }
    return views;
  }

  @Test
  void theRegistryHasExactlyTheOpTypesOfTheOldTables() {
    Set<String> expected = union(OLD_ELEMENTWISE, OLD_REDUCTIONS, OLD_OTHERS, ADDED_FLOATING, ADDED_ANY,
        Set.of("Variable", "Const", "Assign", "AssignAdd", "AssignSub"), viewTypes(), definedElementwise(false));
    assertEquals(expected, new TreeSet<>(CudaKernels.REGISTRY.opTypes()));
  }

  @Test
  void fusedBodiesTakeTheOldElementwiseTypesAndTheFoldedReductions() {
    Set<String> expected = union(OLD_ELEMENTWISE, OLD_FUSED_REDUCTIONS, definedElementwise(true));
    Set<String> fusing = new TreeSet<>();
    for (String t : OpRegistry.types()) {
      if (CudaKernels.fuses(t)) {
        fusing.add(t);
      }
    }
    assertEquals(expected, fusing);
  }

  @Test
  void hasKernelAgreesWithTheOldRuleOnEveryNode() {
    List<Operation> nodes = new ArrayList<>();
    for (DType d : List.of(DType.FLOAT32, DType.FLOAT64)) {
      OpCatalog.cases(d).forEach(c -> nodes.add(c.node()));
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    Output i = tf.placeholder("i", DType.INT32, Shape.of(3, 3));
    Output v = tf.variable("v", tf.constant(1f));
    nodes.addAll(List.of(x.op(), i.op(), v.op(), tf.assign(v, tf.constant(2f)).op(), tf.assignAdd(v, tf.constant(1f)).op(),
        tf.matmul(i, i).op(), tf.softmax(x).op(), tf.cast(i, DType.INT64).op(), tf.reshape(x, 3, 2).op(), tf.identity(x).op(),
        tf.expandDims(x, 0).op(), tf.noOp(), tf.argMax(x, 1).op(), tf.reduceProd(i, new int[] {0}, false).op(),
        tf.argMin(tf.placeholder("e", DType.FLOAT32, Shape.of(3, 0)), 1).op(), tf.argMin(i, 0).op(),
        tf.argMin(tf.placeholder("u", DType.FLOAT32, Shape.of(3, -1)), 1).op()));
    nodes.add(fused(Shape.of(4, 8), "Sum", new long[] {0}));
    nodes.add(fused(Shape.of(4, 8), "Sum", new long[] {1}));
    nodes.add(fused(Shape.of(4, 8), "Prod", new long[] {1}));
    nodes.add(fused(Shape.of(-1, 8), "Max", new long[] {1}));
    int refused = 0;
    for (Operation op : nodes) {
      assertEquals(oldHasKernel(op), CudaKernels.REGISTRY.hasKernel(op), op.toString());
      refused += oldHasKernel(op) ? 0 : 1;
    }
    assertTrue(refused >= 5, "the nodes include some the device refuses: " + refused);
  }

  /** A Fused node over x whose body is {@code reduction(exp(x))} over {@code axes}. */
  private static Operation fused(Shape shape, String reduction, long[] axes) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, shape);
    Graph b = new Graph();
    Output p = b.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT32).setAttr("shape", shape).build().output(0);
    Output y = Ops.create(b).exp(p);
    Output r = b.opBuilder(reduction, "r").addInput(y).setAttr("axes", java.util.Arrays.stream(axes).boxed().toList())
        .setAttr("keep_dims", false).build().output(0);
    return tf.withName("f").opBuilder("Fused").addInput(x).addSubgraph(new Subgraph(b, List.of(p), List.of(r))).build();
  }

  /** A user op type with a CPU kernel only: y = x + 1, elementwise. */
  private static final String USER_OP = "TestCudaRegistryPlusOne";

  private static synchronized void registerUserOp() {
    if (OpRegistry.find(USER_OP).isPresent()) {
      return;
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
    CpuKernels.register(USER_OP, (inputs, attrs) -> {
      float[] v = inputs.get(0).toFloatArray();
      for (int k = 0; k < v.length; k++) {
        v[k] += 1;
      }
      return List.of(dev.kiln.graph.Tensor.of(v, inputs.get(0).shape().dims()));
    });
  }

  @Test
  void aUserOpWithACpuKernelIsPlacedOnTheHostBetweenDeviceNodes() {
    registerUserOp();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    Output e = tf.withName("e").exp(x);
    Output u = tf.withName("u").opBuilder(USER_OP).addInput(e).build().output(0);
    Output t = tf.withName("t").tanh(u);
    assertTrue(CpuKernels.registry().hasKernel(u.op()));
    assertFalse(CudaKernels.REGISTRY.hasKernel(u.op()));
    Program placed = new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY)
        .run(new Program(g, List.of(t), List.of(), Set.of(x)), new PassStatistics());
    assertEquals("/gpu:0", placed.graph().operation("e").device());
    assertEquals("/cpu:0", placed.graph().operation("u").device());
    assertEquals("/gpu:0", placed.graph().operation("t").device());
    assertEquals("CopyToHost", placed.graph().operation("u").input(0).op().type());
  }

  @Test
  void narrowDTypeNodesArePlacedOnTheHost() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(4));
    Output e = tf.withName("e").exp(x);
    Output h = tf.withName("h").cast(e, DType.FLOAT16);
    Output s = tf.withName("s").add(h, h);
    Output r = tf.withName("r").reshape(s, 2, 2);
    Output back = tf.withName("back").cast(r, DType.FLOAT32);
    Output t = tf.withName("t").tanh(back);
    for (Output narrow : List.of(h, s, r, back)) {
      assertFalse(CudaKernels.REGISTRY.hasKernel(narrow.op()), narrow.toString());
      assertFalse(CudaKernels.REGISTRY.canFuse(narrow.op()), narrow.toString());
    }
    Program placed = new Place(DeviceDescription.fakeGpu(), CudaKernels.REGISTRY)
        .run(new Program(g, List.of(t), List.of(), Set.of(x)), new PassStatistics());
    assertEquals("/gpu:0", placed.graph().operation("e").device());
    for (String host : List.of("h", "s", "r", "back")) {
      assertEquals("/cpu:0", placed.graph().operation(host).device(), host);
    }
    assertEquals("/gpu:0", placed.graph().operation("t").device());
    IllegalArgumentException ex = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> CudaTypes.c(DType.BFLOAT16));
    assertEquals("CUDA has no bf16 kernels: nodes on bf16 run on the host", ex.getMessage());
  }

  @Test
  void everyClassOfThisModuleIsInItsOwnPackage() throws IOException, URISyntaxException {
    Path classes = Path.of(CudaKernels.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Set<String> packages = new TreeSet<>();
    try (Stream<Path> files = Files.walk(classes)) {
      files.filter(f -> f.toString().endsWith(".class") && !f.getFileName().toString().equals("module-info.class"))
          .forEach(f -> packages.add(
          classes.relativize(f.getParent()).toString().replace(java.io.File.separatorChar, '.')));
    }
    assertEquals(Set.of("dev.kiln.cuda"), packages, "packages of runtime-cuda's classes in " + classes);
  }
}
