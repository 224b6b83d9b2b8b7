package dev.kiln.reliability;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/** Bad graph-building calls: shapes, dtypes, ranks, axes, attributes, builders, rolled-back outputs. */
final class ApiCasesGraph {
  private ApiCasesGraph() {}

  /** A rolled-back node's use must say that the node is not in the graph (not merely name it). */
  private static final String[] NOT_IN_GRAPH = {"graph", "rolled back", "removed", "no longer"};

  private record Binary(String type, BiFunction<Ops, Output[], Output> op) {}

  private record Unary(String type, BiFunction<Ops, Output, Output> op) {}

  static List<ApiCase> all() {
    CaseList c = new CaseList();
    elementwise(c);
    linalgAndReductions(c);
    layout(c);
    sources(c);
    builders(c);
    rolledBack(c);
    return c.list();
  }

  private static void elementwise(CaseList c) {
    c.group("elementwise");
    List<Binary> numeric = List.of(
        new Binary("Add", (t, a) -> t.add(a[0], a[1])), new Binary("Sub", (t, a) -> t.sub(a[0], a[1])),
        new Binary("Mul", (t, a) -> t.mul(a[0], a[1])), new Binary("Div", (t, a) -> t.div(a[0], a[1])),
        new Binary("Pow", (t, a) -> t.pow(a[0], a[1])), new Binary("Maximum", (t, a) -> t.maximum(a[0], a[1])),
        new Binary("Minimum", (t, a) -> t.minimum(a[0], a[1])), new Binary("Less", (t, a) -> t.less(a[0], a[1])),
        new Binary("LessEqual", (t, a) -> t.lessEqual(a[0], a[1])),
        new Binary("Greater", (t, a) -> t.greater(a[0], a[1])),
        new Binary("GreaterEqual", (t, a) -> t.greaterEqual(a[0], a[1])),
        new Binary("Equal", (t, a) -> t.equal(a[0], a[1])), new Binary("NotEqual", (t, a) -> t.notEqual(a[0], a[1])));
    for (Binary b : numeric) {
      c.one(b.type() + "(x f32[?,3], f32[4]): shapes do not broadcast",
          f -> { Output k = f.f32(4); return () -> b.op().apply(f.tf, new Output[] {f.x, k}); },
          b.type(), "[4]", "[?,3]");
      c.one(b.type() + "(x f32[?,3], i32[3]): dtypes differ",
          f -> { Output k = f.i32(3); return () -> b.op().apply(f.tf, new Output[] {f.x, k}); },
          b.type(), "i32", "int32", "f32", "float32");
    }
    for (Binary b : List.of(new Binary("LogicalAnd", (t, a) -> t.logicalAnd(a[0], a[1])),
        new Binary("LogicalOr", (t, a) -> t.logicalOr(a[0], a[1])))) {
      c.one(b.type() + "(f32, f32): not bool", f -> () -> b.op().apply(f.tf, new Output[] {f.x, f.x}),
          b.type(), "bool", "f32");
      c.one(b.type() + "(bool[3], bool[4]): shapes do not broadcast",
          f -> { Output k = f.bool(4); return () -> b.op().apply(f.tf, new Output[] {f.xb, k}); },
          b.type(), "[4]", "[3]");
    }
    c.one("Select(cond f32, x, x): condition not bool", f -> () -> f.tf.select(f.x, f.x, f.x), "Select", "bool");
    c.one("Select(cond, f32, i32): branch dtypes differ",
        f -> { Output k = f.i32(3); return () -> f.tf.select(f.xb, f.xd, k); }, "Select", "i32", "f64");
    c.one("Select(bool[3], f32[4], f32[4]): shapes do not broadcast",
        f -> { Output k = f.f32(4); return () -> f.tf.select(f.xb, k, k); }, "Select", "[3]", "[4]");
    c.one("AddN(f32, i32): dtypes differ",
        f -> { Output k = f.i32(3); Output a = f.f32(3); return () -> f.tf.addN(List.of(a, k)); }, "AddN", "i32");
    c.one("AddN(f32[3], f32[4]): shapes differ",
        f -> { Output a = f.f32(3); Output b = f.f32(4); return () -> f.tf.addN(List.of(a, b)); }, "AddN", "[4]", "[3]");
    c.one("AddN([]): no inputs", f -> () -> f.tf.addN(List.of()), "AddN", "input");

    List<Unary> numericUnary = List.of(new Unary("Neg", Ops::neg), new Unary("Square", Ops::square),
        new Unary("Abs", Ops::abs), new Unary("Sign", Ops::sign), new Unary("Relu", Ops::relu));
    for (Unary u : numericUnary) {
      c.one(u.type() + "(bool[3]): not numeric", f -> () -> u.op().apply(f.tf, f.xb), u.type(), "bool");
    }
    List<Unary> floatUnary = List.of(new Unary("Sqrt", Ops::sqrt), new Unary("Rsqrt", Ops::rsqrt),
        new Unary("Reciprocal", Ops::reciprocal), new Unary("Exp", Ops::exp), new Unary("Log", Ops::log),
        new Unary("Sin", Ops::sin), new Unary("Cos", Ops::cos), new Unary("Sigmoid", Ops::sigmoid),
        new Unary("Tanh", Ops::tanh));
    for (Unary u : floatUnary) {
      c.one(u.type() + "(i32[3]): not float", f -> () -> u.op().apply(f.tf, f.xi), u.type(), "i32", "int32");
    }
    c.one("LogicalNot(f32): not bool", f -> () -> f.tf.logicalNot(f.x), "LogicalNot", "bool", "f32");
    c.one("Neg(null)", f -> () -> f.tf.neg(null), "Neg", "null", "input");
    c.one("Add(x, null)", f -> () -> f.tf.add(f.x, null), "Add", "null", "input");
    c.one("MatMul(null, w)", f -> () -> f.tf.matmul(null, f.w), "MatMul", "null", "input");
    c.one("Cast(x, null dtype)", f -> () -> f.tf.cast(f.x, null), "Cast", "dtype", "null");
  }

  private static void linalgAndReductions(CaseList c) {
    c.group("linalg/reduce");
    c.one("MatMul(f32[?,3], f32[4,2]): inner dimensions differ",
        f -> { Output k = f.f32(4, 2); return () -> f.tf.matmul(f.x, k); }, "MatMul", "[4,2]", "inner");
    c.one("MatMul(f32[?,3], f32[3]): rank 1", f -> { Output k = f.f32(3); return () -> f.tf.matmul(f.x, k); },
        "MatMul", "rank", "[3]");
    c.one("MatMul(f32[2,2,3], w): rank 3", f -> { Output k = f.f32(2, 2, 3); return () -> f.tf.matmul(k, f.w); },
        "MatMul", "rank", "[2,2,3]");
    c.one("MatMul(f32, i32): dtypes differ", f -> { Output k = f.i32(3, 2); return () -> f.tf.matmul(f.x, k); },
        "MatMul", "i32");
    c.one("MatMul(bool, bool)", f -> { Output k = f.bool(3, 3); return () -> f.tf.matmul(k, k); }, "MatMul", "bool");
    c.one("MatMul(x, w, transpose_b): [?,3] x [2,3]", f -> () -> f.tf.matmul(f.x, f.w, false, true),
        "MatMul", "[3,2]", "inner");
    record Red(String type, Function<Ops, BiFunction<Output, int[], Output>> op) {}
    List<Red> reds = List.of(new Red("Sum", t -> (x, a) -> t.reduceSum(x, a, false)),
        new Red("Mean", t -> (x, a) -> t.reduceMean(x, a, false)),
        new Red("Max", t -> (x, a) -> t.reduceMax(x, a, false)),
        new Red("Min", t -> (x, a) -> t.reduceMin(x, a, false)),
        new Red("Prod", t -> (x, a) -> t.reduceProd(x, a, false)));
    for (Red r : reds) {
      c.one(r.type() + "(x, axes [2]) on rank 2", f -> () -> r.op().apply(f.tf).apply(f.x, new int[] {2}),
          r.type(), "axis", "2");
      c.one(r.type() + "(x, axes [-3]) on rank 2", f -> () -> r.op().apply(f.tf).apply(f.x, new int[] {-3}),
          r.type(), "axis", "-3");
      c.one(r.type() + "(x, axes [0, 0])", f -> () -> r.op().apply(f.tf).apply(f.x, new int[] {0, 0}),
          r.type(), "axis", "twice", "0");
      c.one(r.type() + "(bool[3])", f -> () -> r.op().apply(f.tf).apply(f.xb, new int[] {0}), r.type(), "bool");
      c.one(r.type() + "(x, axes null)", f -> () -> r.op().apply(f.tf).apply(f.x, null), r.type(), "axes", "null");
    }
    c.one("reduceSum over all axes of a value of unknown rank",
        f -> { Output u = f.tf.placeholder("unknown_rank", DType.FLOAT32, Shape.unknown()); return () -> f.tf.reduceSum(u); },
        "Sum", "rank", "unknown_rank");
    c.one("ArgMax(x, axis 5)", f -> () -> f.tf.argMax(f.x, 5), "ArgMax", "axis", "5");
    c.one("ArgMax(scalar, 0)", f -> { Output k = f.tf.constant(1f); return () -> f.tf.argMax(k, 0); }, "ArgMax", "scalar", "rank");
    c.one("ReduceSumLike(f32[?,3], f32[4])", f -> { Output k = f.f32(4); return () -> f.tf.reduceSumLike(f.x, k); },
        "ReduceSumLike", "[4]");
    c.one("Softmax(x, axis 2)", f -> () -> f.tf.softmax(f.x, 2), "Softmax", "axis");
    c.one("Softmax(i32[3])", f -> () -> f.tf.softmax(f.xi), "Softmax", "i32");
    c.one("Softmax(scalar)", f -> { Output k = f.tf.constant(1f); return () -> f.tf.softmax(k); }, "Softmax", "scalar", "rank");
    c.one("LogSoftmax(x, axis -3)", f -> () -> f.tf.logSoftmax(f.x, -3), "LogSoftmax", "axis");
    c.one("LogSoftmax(i32[3])", f -> () -> f.tf.logSoftmax(f.xi), "LogSoftmax", "i32");
    c.one("LogSoftmax(bool[3])", f -> () -> f.tf.logSoftmax(f.xb), "LogSoftmax", "bool");
  }

  private static void layout(CaseList c) {
    c.group("layout");
    c.one("Reshape(f32[2,3], [4])", f -> { Output k = f.f32(2, 3); return () -> f.tf.reshape(k, 4); }, "Reshape", "[4]", "[2,3]");
    c.one("Reshape(f32[2,3], [-1,-1])", f -> { Output k = f.f32(2, 3); return () -> f.tf.reshape(k, -1, -1); },
        "Reshape", "-1", "unknown");
    c.one("Reshape(x f32[?,3], [4])", f -> () -> f.tf.reshape(f.x, 4), "Reshape", "[4]", "[?,3]");
    c.one("Reshape(x, [2,-2])", f -> () -> f.tf.reshape(f.x, 2, -2), "Reshape", "-2", "dimension");
    c.one("Reshape(x, null shape)", f -> () -> f.tf.reshape(f.x, (Shape) null), "Reshape", "shape", "null");
    c.one("ReshapeLike(f32[2,3], f32[4])", f -> { Output a = f.f32(2, 3); Output b = f.f32(4); return () -> f.tf.reshapeLike(a, b); },
        "ReshapeLike", "[4]");
    c.one("Transpose(x, perm [0])", f -> () -> f.tf.transpose(f.x, 0), "Transpose", "perm");
    c.one("Transpose(x, perm [0,0])", f -> () -> f.tf.transpose(f.x, 0, 0), "Transpose", "perm");
    c.one("Transpose(x, perm [-1,0])", f -> () -> f.tf.transpose(f.x, -1, 0), "Transpose", "perm");
    c.one("Transpose(x, perm [0,2])", f -> () -> f.tf.transpose(f.x, 0, 2), "Transpose", "perm");
    c.one("Transpose() of unknown rank",
        f -> { Output u = f.tf.placeholder("unknown_rank_t", DType.FLOAT32, Shape.unknown()); return () -> f.tf.transpose(u); },
        "Transpose", "rank");
    c.one("ExpandDims(x, 3) on rank 2", f -> () -> f.tf.expandDims(f.x, 3), "ExpandDims", "axis", "3");
    c.one("ExpandDims(x, -4) on rank 2", f -> () -> f.tf.expandDims(f.x, -4), "ExpandDims", "axis", "-4");
    c.one("Squeeze(x, axis 1 of size 3)", f -> () -> f.tf.squeeze(f.x, 1), "Squeeze", "axis", "3");
    c.one("Squeeze(x, axis 7)", f -> () -> f.tf.squeeze(f.x, 7), "Squeeze", "axis", "7");
    c.one("Squeeze(x) with an unknown dimension", f -> () -> f.tf.squeeze(f.x), "Squeeze", "unknown", "?");
    c.one("Concat([f32[2,3], i32[2,3]], 0)",
        f -> { Output a = f.f32(2, 3); Output b = f.i32(2, 3); return () -> f.tf.concat(List.of(a, b), 0); }, "Concat", "i32");
    c.one("Concat([f32[2,3], f32[3]], 0)",
        f -> { Output a = f.f32(2, 3); Output b = f.f32(3); return () -> f.tf.concat(List.of(a, b), 0); }, "Concat", "rank");
    c.one("Concat([x, x], axis 2)", f -> () -> f.tf.concat(List.of(f.x, f.x), 2), "Concat", "axis");
    c.one("Concat([scalar, scalar], 0)",
        f -> { Output a = f.tf.constant(1f); return () -> f.tf.concat(List.of(a, a), 0); }, "Concat", "scalar");
    c.one("Concat([f32[2,3], f32[2,4]], 0)",
        f -> { Output a = f.f32(2, 3); Output b = f.f32(2, 4); return () -> f.tf.concat(List.of(a, b), 0); }, "Concat", "[2,4]");
    c.one("Concat([], 0)", f -> () -> f.tf.concat(List.of(), 0), "Concat", "input");
    c.one("Slice(f32[2,3], begin [0,2], size [1,2])",
        f -> { Output a = f.f32(2, 3); return () -> f.tf.slice(a, new int[] {0, 2}, new int[] {1, 2}); }, "Slice", "bounds", "[2,3]");
    c.one("Slice(f32[2,3], begin [3,0], size [-1,-1])",
        f -> { Output a = f.f32(2, 3); return () -> f.tf.slice(a, new int[] {3, 0}, new int[] {-1, -1}); }, "Slice", "[2,3]");
    c.one("Slice(f32[2,3], begin [0], size [1,1])",
        f -> { Output a = f.f32(2, 3); return () -> f.tf.slice(a, new int[] {0}, new int[] {1, 1}); }, "Slice", "begin");
    c.one("Slice(f32[2,3], begin [-1,0], size [1,1])",
        f -> { Output a = f.f32(2, 3); return () -> f.tf.slice(a, new int[] {-1, 0}, new int[] {1, 1}); }, "Slice", "begin");
    c.one("Pad(x, 1,1)", f -> () -> f.tf.pad(f.x, 1, 1), "Pad", "paddings");
    c.one("Pad(x, -1,0,0,0)", f -> () -> f.tf.pad(f.x, -1, 0, 0, 0), "Pad", "paddings", "-1");
    c.one("OneHot(xi, depth 0)", f -> () -> f.tf.oneHot(f.xi, 0), "OneHot", "depth");
    c.one("OneHot(xi, depth -1)", f -> () -> f.tf.oneHot(f.xi, -1), "OneHot", "depth", "-1");
    c.one("OneHot(f32 indices, 3)", f -> () -> f.tf.oneHot(f.x, 3), "OneHot", "f32", "int");
    c.one("OneHot(xi, 3, bool dtype)", f -> () -> f.tf.oneHot(f.xi, 3, DType.BOOL), "OneHot", "bool", "dtype");
  }

  private static void sources(CaseList c) {
    c.group("sources/state");
    c.one("placeholder(null name)", f -> () -> f.tf.placeholder(null, DType.FLOAT32, Shape.of(2)), "name", "null", "Placeholder");
    c.one("placeholder(p, null dtype)", f -> () -> f.tf.placeholder("p_null_dtype", null, Shape.of(2)), "dtype", "null");
    c.one("placeholder(p, f32, null shape)", f -> () -> f.tf.placeholder("p_null_shape", DType.FLOAT32, null), "shape", "null");
    c.one("placeholder('bad name!')", f -> () -> f.tf.placeholder("bad name!", DType.FLOAT32, Shape.of(2)), "bad name!", "name");
    c.one("placeholder('x') again", f -> () -> f.tf.placeholder("x", DType.FLOAT32, Shape.of(2)), "'x'", "already", "x");
    c.one("constant((Tensor) null)", f -> () -> f.tf.constant((Tensor) null), "null", "value", "Const");
    c.one("constant((float[]) null)", f -> () -> f.tf.constant((float[]) null), "null", "value", "Const");
    c.one("fill([2], value f32[3])", f -> { Output v = f.f32(3); return () -> f.tf.fill(Shape.of(2), v); }, "Fill", "scalar", "[3]");
    c.one("fill([?,2], 1f)", f -> { Output v = f.tf.constant(1f); return () -> f.tf.fill(Shape.of(-1, 2), v); }, "Fill", "[?,2]", "shape");
    c.one("fill(null shape, 1f)", f -> { Output v = f.tf.constant(1f); return () -> f.tf.fill(null, v); }, "Fill", "shape", "null");
    c.one("randomNormal([2], i32)", f -> () -> f.tf.randomNormal(Shape.of(2), DType.INT32, 1), "RandomNormal", "i32", "float");
    c.one("randomNormal([?,2])", f -> () -> f.tf.randomNormal(Shape.of(-1, 2), 1), "RandomNormal", "shape", "[?,2]");
    c.one("randomUniform([2], bool)", f -> () -> f.tf.randomUniform(Shape.of(2), DType.BOOL, 1), "RandomUniform", "bool");
    c.one("variable('w') again", f -> { Output v = f.f32(3, 2); return () -> f.tf.variable("w", v); }, "'w'", "already", "w");
    c.one("variable with initial value of shape [?,3]", f -> () -> f.tf.variable("v_unknown", f.x), "Variable", "[?,3]", "shape");
    c.one("variable(null name)", f -> { Output v = f.f32(2); return () -> f.tf.variable(null, v); }, "name", "null", "Variable");
    c.one("variable(v, null initial value)", f -> () -> f.tf.variable("v_null", null), "null", "initial", "Variable");
    c.one("assign(x placeholder, x)", f -> () -> f.tf.assign(f.x, f.x), "Assign", "Variable");
    c.one("assign(w f32[3,2], i32[3,2])", f -> { Output v = f.i32(3, 2); return () -> f.tf.assign(f.w, v); }, "Assign", "i32", "dtype");
    c.one("assign(w f32[3,2], f32[2,3])", f -> { Output v = f.f32(2, 3); return () -> f.tf.assign(f.w, v); }, "Assign", "[2,3]", "shape");
    c.one("assignAdd(x placeholder, x)", f -> () -> f.tf.assignAdd(f.x, f.x), "AssignAdd", "Variable");
    c.one("assignSub(w, bool)", f -> { Output v = f.bool(3, 2); return () -> f.tf.assignSub(f.w, v); }, "AssignSub", "bool");
    c.one("gradients(y, (Output) null)", f -> () -> f.tf.gradients(f.y, (Output) null), "null", "gradient");
    c.one("gradients(null, x)", f -> () -> f.tf.gradients((Output) null, f.x), "null", "gradient");
    c.one("gradients of an i32 value", f -> { Output s = f.tf.reduceSum(f.xi); return () -> f.tf.gradients(s, f.xi); }, "i32", "float", "int");
    c.one("gradients(y, x of another graph)", f -> () -> f.tf.gradients(f.y, f.ox), "graph", "x");
    c.one("withSubScope('bad scope!')", f -> () -> f.tf.withSubScope("bad scope!"), "bad scope!", "scope");
    c.one("withDevice('/tpu:0')", f -> () -> f.tf.withDevice("/tpu:0"), "/tpu:0", "device");
    c.one("withName('x').constant(1f): name taken", f -> () -> f.tf.withName("x").constant(1f), "'x'", "already");
  }

  private static void builders(CaseList c) {
    c.group("opBuilder");
    c.one("opBuilder('NoSuchOp').build()", f -> () -> f.g.opBuilder("NoSuchOp", null).build(), "NoSuchOp");
    c.one("MatMul setAttr('transpos_a', true): misspelled attribute",
        f -> () -> f.g.opBuilder("MatMul", null).addInput(f.x).addInput(f.w).setAttr("transpos_a", true).build(),
        "transpos_a");
    c.one("Sum setAttr('axis', [0]) instead of 'axes'",
        f -> () -> f.g.opBuilder("Sum", null).addInput(f.x).setAttr("axes", new int[] {0}).setAttr("axis", new int[] {0}).build(),
        "'axis'", "axis");
    c.one("Relu setAttr('alpha', 0.1): attribute of no meaning",
        f -> () -> f.g.opBuilder("Relu", null).addInput(f.x).setAttr("alpha", 0.1).build(), "alpha");
    c.one("MatMul transpose_a = \"yes\" (String)",
        f -> () -> f.g.opBuilder("MatMul", null).addInput(f.x).addInput(f.w).setAttr("transpose_a", "yes").build(),
        "transpose_a");
    c.one("Sum axes = \"0\" (String)", f -> () -> f.g.opBuilder("Sum", null).addInput(f.x).setAttr("axes", "0").build(), "axes");
    c.one("Cast dtype = 3 (int)", f -> () -> f.g.opBuilder("Cast", null).addInput(f.x).setAttr("dtype", 3).build(), "dtype");
    c.one("Placeholder shape = int[]{2}",
        f -> () -> f.g.opBuilder("Placeholder", "p_int_shape").setAttr("dtype", DType.FLOAT32).setAttr("shape", new int[] {2}).build(),
        "shape");
    c.one("Placeholder without shape", f -> () -> f.g.opBuilder("Placeholder", "p_no_shape").setAttr("dtype", DType.FLOAT32).build(),
        "shape");
    c.one("Cast without dtype", f -> () -> f.g.opBuilder("Cast", null).addInput(f.x).build(), "dtype");
    c.one("Const without value", f -> () -> f.g.opBuilder("Const", null).build(), "value");
    c.one("setAttr(null name, 1)", f -> () -> f.g.opBuilder("Cast", null).addInput(f.x).setAttr(null, 1).build(), "null", "attribute", "name");
    c.one("setAttr('dtype', null)", f -> () -> f.g.opBuilder("Cast", null).addInput(f.x).setAttr("dtype", null).build(), "dtype", "null");
    c.one("setAttr('dtype', new Object())",
        f -> () -> f.g.opBuilder("Cast", null).addInput(f.x).setAttr("dtype", new Object()).build(), "dtype", "Object");
    c.one("Neg with 2 inputs", f -> () -> f.g.opBuilder("Neg", null).addInput(f.x).addInput(f.x).build(), "Neg", "input");
    c.one("Add with 1 input", f -> () -> f.g.opBuilder("Add", null).addInput(f.x).build(), "Add", "input");
    c.one("Add with an input of another graph", f -> () -> f.tf.add(f.x, f.ox), "graph", "Add");
    c.one("NoOp with a control input of another graph",
        f -> () -> f.g.opBuilder("NoOp", null).addControlInput(f.ox.op()).build(), "graph", "control");
    c.one("opBuilder(null type)", f -> () -> f.g.opBuilder(null, null).build(), "type", "null", "op");
    c.one("opBuilder('Neg', 'a b') invalid name", f -> () -> f.g.opBuilder("Neg", "a b").addInput(f.x).build(), "a b", "name");
    c.one("setDevice('garbage')", f -> () -> f.g.opBuilder("Neg", null).addInput(f.x).setDevice("garbage").build(), "garbage", "device");
    c.one("Identity with 0 inputs", f -> () -> f.g.opBuilder("Identity", null).build(), "Identity", "input");
  }

  /** Outputs created inside a Graph.atomically body that threw: they are not in the graph. */
  private static void rolledBack(CaseList c) {
    c.group("rolled-back");
    Function<ApiFixture, Output> ghost = f -> {
      Output[] made = new Output[1];
      try {
        f.g.atomically(() -> {
          made[0] = f.tf.withName("ghost").add(f.x, f.tf.constant(2f));
          throw new IllegalStateException("rolled back on purpose");
        });
      } catch (IllegalStateException expected) {
        // the body's nodes are gone; made[0] still points at one of them
      }
      return made[0];
    };
    c.one("add(ghost, c)", f -> { Output gh = ghost.apply(f); Output k = f.tf.constant(1f); return () -> f.tf.add(gh, k); },
        NOT_IN_GRAPH);
    c.one("identity(ghost)", f -> { Output gh = ghost.apply(f); return () -> f.tf.identity(gh); }, NOT_IN_GRAPH);
    c.one("fetch ghost", f -> { Output gh = ghost.apply(f); return () -> f.s.run(Map.of(f.x, f.xv()), gh); }, NOT_IN_GRAPH);
    c.one("fetch ghost, optimizer off", f -> {
      Output gh = ghost.apply(f);
      return () -> {
        try (var s = new dev.kiln.runtime.Session(f.g, dev.kiln.runtime.SessionOptions.builder().optimize(false).build())) {
          return s.run(Map.of(f.x, f.xv()), gh);
        }
      };
    }, NOT_IN_GRAPH);
    c.one("feed ghost (and x), fetch y",
        f -> { Output gh = ghost.apply(f); return () -> f.s.run(Map.of(gh, f.xv(), f.x, f.xv()), f.y); }, NOT_IN_GRAPH);
    c.one("ghost as control input", f -> {
      Output gh = ghost.apply(f);
      return () -> f.tf.withControlDependencies(List.of(gh.op())).noOp();
    }, NOT_IN_GRAPH);
    c.one("ghost as target", f -> { Output gh = ghost.apply(f); return () -> { f.s.run(gh.op()); return null; }; }, NOT_IN_GRAPH);
    c.one("gradients(reduceSum(x), ghost)", f -> {
      Output gh = ghost.apply(f);
      Output l = f.tf.reduceSum(f.x);
      return () -> f.tf.gradients(l, gh);
    }, NOT_IN_GRAPH);
    c.one("assign to a rolled-back variable", f -> {
      Variable[] v = new Variable[1];
      try {
        f.g.atomically(() -> {
          v[0] = f.tf.variable("ghost_var", f.tf.constant(Tensor.of(new float[] {1, 2}, 2)));
          throw new IllegalStateException("rolled back on purpose");
        });
      } catch (IllegalStateException expected) {
        // rolled back
      }
      Output k = f.f32(2);
      return () -> f.tf.assign(v[0], k);
    }, NOT_IN_GRAPH);
  }
}
