package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Graph structure: naming, scopes, control dependencies, devices, rollback, output lookup. */
class GraphTest {
  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);
  private final Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));

  /** A user-registered op with two outputs (a value and its negation), for output lookup tests. */
  private static final String SPLIT = "GraphTestTwoOutputs";

  static {
    OpRegistry.register(new OpDef() {
      @Override
      public String type() {
        return SPLIT;
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
      public List<TensorType> infer(OpContext c) {
        return List.of(c.input(0), new TensorType(DType.BOOL, c.shape(0)));
      }
    });
  }

  @Test
  void automaticNamesAreSuffixedInOrder() {
    assertEquals("Neg", tf.neg(x).name());
    assertEquals("Neg_1", tf.neg(x).name());
    assertEquals("Neg_2", tf.neg(x).name());
    // An explicit name that looks like a suffixed one is skipped by later automatic names.
    assertEquals("Abs_1", tf.withName("Abs_1").abs(x).name());
    assertEquals("Abs", tf.abs(x).name());
    assertEquals("Abs_2", tf.abs(x).name());
    assertEquals(List.of("x", "Neg", "Neg_1", "Neg_2", "Abs_1", "Abs", "Abs_2"),
        g.operations().stream().map(Operation::name).toList());
  }

  @Test
  void aFailedNodeDoesNotUseUpASuffix() {
    Output n = tf.placeholder("n", DType.INT32, Shape.of(2));
    assertEquals("Add", tf.add(x, x).name());
    assertThrows(IllegalArgumentException.class, () -> tf.add(x, n));
    assertEquals("Add_1", tf.add(x, x).name());
  }

  @Test
  void nameScopesNestAndSuffixWithinTheScope() {
    Ops dense = tf.withSubScope("layer1").withSubScope("dense");
    assertEquals("layer1/dense/Neg", dense.neg(x).name());
    assertEquals("layer1/dense/Neg_1", dense.neg(x).name());
    assertEquals("layer1/dense/b", dense.placeholder("b", DType.FLOAT32, Shape.scalar()).name());
    assertEquals("layer1/dense/out", dense.withName("out").neg(x).name());
    assertEquals("Neg", tf.neg(x).name());
    // withName applies to the scope it was given on, and a sub-scope drops it.
    Ops named = tf.withName("y");
    assertEquals("s/Neg", named.withSubScope("s").neg(x).name());
    assertEquals("y", named.neg(x).name());
  }

  @Test
  void controlDependenciesAccumulateAndReachEveryNodeOfTheScope() {
    Operation a = tf.noOp();
    Operation b = tf.noOp();
    Ops afterA = tf.withControlDependencies(List.of(a));
    Output n = afterA.neg(x);
    assertEquals(List.of(a), n.op().controlInputs());
    Output m = afterA.withControlDependencies(List.of(b)).abs(x);
    assertEquals(List.of(a, b), m.op().controlInputs());
    assertEquals(List.of(a), afterA.withSubScope("s").withName("z").identity(x).op().controlInputs());
    assertEquals(List.of(), tf.neg(x).op().controlInputs());
    assertEquals(List.of(x.op()), n.op().inputs().stream().map(Output::op).toList());
  }

  @Test
  void devicesArePinnedPerScope() {
    assertEquals("", tf.neg(x).op().device());
    Ops gpu = tf.withDevice("/gpu:0");
    assertEquals("/gpu:0", gpu.neg(x).op().device());
    assertEquals("/gpu:0", gpu.withSubScope("s").abs(x).op().device());
    assertEquals("/cpu:1", gpu.withDevice("/cpu:1").abs(x).op().device());
    assertEquals("", gpu.withDevice("").abs(x).op().device());
  }

  @Test
  void atomicallyReturnsTheBodysValueOrRemovesEverythingItAdded() {
    Output y = g.atomically(() -> tf.neg(tf.abs(x)));
    assertEquals("Neg", y.name());
    List<Operation> before = g.operations();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
      tf.variable("v", tf.constant(1f));
      tf.neg(x);
      throw new IllegalStateException("boom");
    }));
    assertEquals("boom", e.getMessage());
    assertEquals(before, g.operations());
    assertEquals(List.of(), g.variables());
    assertTrue(g.findOperation("v").isEmpty());
    assertThrows(AssertionError.class, () -> g.atomically(() -> {
      tf.neg(x);
      throw new AssertionError("errors roll back too");
    }));
    assertEquals(before, g.operations());
    // Names the rolled-back nodes had are free again, and automatic suffixes restart from them.
    assertEquals("Neg_1", tf.neg(x).name());
    assertEquals("v", tf.variable("v", tf.constant(2f)).name());
    assertEquals("Const", g.operation("v").input(0).name());
  }

  @Test
  void rollingBackAnInitializerKeepsItsVariable() {
    Output init = tf.constant(1f);
    Variable v = (Variable) g.opBuilder("Variable", "v").addInput(init).build().output(0);
    assertEquals(List.of(v), g.variables());
    IllegalStateException noInit = assertThrows(IllegalStateException.class, v::initializer);
    assertEquals("variable 'v' has no initializer in this graph", noInit.getMessage());
    assertThrows(IllegalStateException.class, () -> g.atomically(() -> {
      tf.assign(v, init);
      throw new IllegalStateException("rolled back");
    }));
    assertEquals(List.of(v), g.variables());
    Output assign = tf.assign(v, init);
    assertSame(assign.op(), v.initializer());
  }

  @Test
  void outputsAreFoundByName() {
    Operation two = tf.withName("two").opBuilder(SPLIT).addInput(x).build();
    assertEquals(2, two.numOutputs());
    assertSame(two.output(0), g.output("two"));
    assertSame(two.output(0), g.output("two:0"));
    assertSame(two.output(1), g.output("two:1"));
    assertEquals("two", two.output(0).name());
    assertEquals("two:1", two.output(1).name());
    assertEquals("bool[2]", g.output("two:1").type().toString());
    assertEquals(1, g.output("two:1").index());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.output("two:2"));
    assertEquals("no output 'two:2': " + SPLIT + " 'two' has 2 outputs", e.getMessage());
    assertSame(x, g.output("x"));
    assertSame(x.op(), g.operation("x"));
  }

  @Test
  void operationsDescribeThemselves() {
    Output y = tf.add(x, tf.constant(1f));
    Operation op = y.op();
    assertEquals("Add", op.type());
    assertEquals(2, op.numInputs());
    assertSame(x, op.input(0));
    assertEquals(List.of(new TensorType(DType.FLOAT32, Shape.of(2))), op.outputTypes());
    assertEquals("Add 'Add'", op.toString());
    assertEquals("Add 'Add' f32[2]", y.toString());
    assertSame(g, y.graph());
    assertEquals(List.of(0, 1, 2), g.operations().stream().map(Operation::id).toList());
    assertTrue(op.id() > op.input(1).op().id());
    assertEquals("Graph(3 nodes)", g.toString());
    assertThrows(UnsupportedOperationException.class, () -> g.operations().clear());
    assertThrows(UnsupportedOperationException.class, () -> op.inputs().clear());
    assertEquals(3, g.size());
  }

  @Test
  void registryRejectsDuplicatesAndBadNames() {
    assertTrue(OpRegistry.types().contains("MatMul"));
    assertTrue(OpRegistry.find("Nope").isEmpty());
    OpDef add = OpRegistry.get("Add");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpRegistry.register(add));
    assertEquals("op type 'Add' is already registered", e.getMessage());
    OpDef lower = new OpDef() {
      @Override
      public String type() {
        return "lower";
      }

      @Override
      public int minInputs() {
        return 0;
      }

      @Override
      public int maxInputs() {
        return 0;
      }

      @Override
      public List<TensorType> infer(OpContext c) {
        return List.of();
      }
    };
    e = assertThrows(IllegalArgumentException.class, () -> OpRegistry.register(lower));
    assertEquals("op type name 'lower' must start with an upper-case letter and hold letters, digits, _", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> OpRegistry.get("Nope"));
    assertEquals("unknown op type 'Nope'", e.getMessage());
  }

  /** A user op type whose inference is given by the test. */
  private static OpDef userOp(String type, java.util.function.Function<OpContext, List<TensorType>> infer) {
    return new OpDef() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public int minInputs() {
        return 0;
      }

      @Override
      public int maxInputs() {
        return 2;
      }

      @Override
      public List<TensorType> infer(OpContext c) {
        return infer.apply(c);
      }
    };
  }

  @Test
  void userOpsCannotCorruptTheGraph() {
    String greedy = "GraphTestGreedy";
    String broken = "GraphTestBroken";
    if (OpRegistry.find(greedy).isEmpty()) {
      OpRegistry.register(userOp(greedy, c -> {
        c.inputs().add(c.inputs().get(0));
        return List.of();
      }));
      OpRegistry.register(userOp(broken, c -> java.util.Arrays.asList(c.input(0), null)));
    }
    List<Operation> before = g.operations();
    assertThrows(UnsupportedOperationException.class, () -> tf.opBuilder(greedy).addInput(x).build());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> tf.opBuilder(broken).addInput(x).build());
    assertEquals(broken + " '" + broken + "': op definition inferred a null type: [f32[2], null]", e.getMessage());
    assertEquals(before, g.operations());
    IllegalArgumentException arity = assertThrows(IllegalArgumentException.class,
        () -> tf.opBuilder(broken).addInput(x).addInput(x).addInput(x).build());
    assertEquals(broken + " '" + broken + "': expects 0 to 2 inputs, got 3", arity.getMessage());
  }

  @Test
  void builderRejectsNullSubgraphsAndDevices() {
    NullPointerException e = assertThrows(NullPointerException.class, () -> tf.opBuilder("NoOp").addSubgraph(null));
    assertEquals("NoOp: subgraph is null", e.getMessage());
    e = assertThrows(NullPointerException.class, () -> tf.opBuilder("NoOp").setDevice(null));
    assertEquals("NoOp: device is null (use \"\" for none)", e.getMessage());
  }

  @Test
  void subgraphsHoldParametersOfTheirOwnGraph() {
    Graph body = new Graph();
    Output p = body.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.of(2))
        .build().output(0);
    Output r = Ops.create(body).neg(p);
    Subgraph sub = new Subgraph(body, List.of(p), List.of(r));
    assertEquals(List.of(r), sub.results());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Subgraph(body, List.of(r), List.of(r)));
    assertEquals("subgraph parameter Neg 'Neg' f32[2] is not a Parameter of its graph", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Subgraph(body, List.of(p), List.of(x)));
    assertEquals("subgraph result Placeholder 'x' f32[2] belongs to another graph", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Subgraph(g, List.of(p), List.of()));
    assertEquals("subgraph parameter Parameter 'p' f32[2] is not a Parameter of its graph", e.getMessage());
  }
}
