package dev.kiln.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The graph-building API, in the manner of TensorFlow Java's {@code Ops}: each method appends one
 * node (or a few, atomically) to the graph and returns its output. An {@code Ops} is an immutable
 * scope: {@link #withSubScope}, {@link #withName}, {@link #withControlDependencies} and
 * {@link #withDevice} return new scopes over the same graph.
 */
public final class Ops {
  private final Graph graph;
  private final String prefix;
  private final String nextName;
  private final List<Operation> controlDeps;
  private final String device;

  private Ops(Graph graph, String prefix, String nextName, List<Operation> controlDeps, String device) {
    this.graph = graph;
    this.prefix = prefix;
    this.nextName = nextName;
    this.controlDeps = controlDeps;
    this.device = device;
  }

  public static Ops create(Graph graph) {
    return new Ops(Objects.requireNonNull(graph, "Ops.create: graph is null"), "", null, List.of(), "");
  }

  /** The graph this scope builds into: its own, or, inside a {@link #cond} or {@link #whileLoop} closure, the body's. */
  public Graph graph() {
    return graph.buildTarget();
  }

  /** The graph this scope was created over, whatever body is being built. */
  Graph rootGraph() {
    return graph;
  }

  // ---------------------------------------------------------------- scopes

  /** Nodes built through the returned scope are named under {@code name/}. */
  public Ops withSubScope(String name) {
    Objects.requireNonNull(name, "withSubScope: name is null");
    if (!Graph.isValidName(prefix + name)) {
      throw new IllegalArgumentException("invalid scope name '" + name
          + "' (letters, digits, and _ . - / after the first character)");
    }
    return new Ops(graph, prefix + name + "/", null, controlDeps, device);
  }

  /** The next node built through the returned scope gets exactly this name (under the scope). */
  public Ops withName(String name) {
    Objects.requireNonNull(name, "withName: name is null");
    return new Ops(graph, prefix, name, controlDeps, device);
  }

  /** Nodes built through the returned scope run only after {@code ops}. */
  public Ops withControlDependencies(Iterable<Operation> ops) {
    Objects.requireNonNull(ops, "withControlDependencies: ops is null");
    List<Operation> deps = new ArrayList<>(controlDeps);
    for (Operation op : ops) {
      deps.add(Objects.requireNonNull(op, "withControlDependencies: op " + (deps.size() - controlDeps.size()) + " is null"));
    }
    return new Ops(graph, prefix, nextName, List.copyOf(deps), device);
  }

  /** Nodes built through the returned scope are pinned to a device: {@code /cpu:0}, {@code /gpu:0}. */
  public Ops withDevice(String deviceName) {
    Objects.requireNonNull(deviceName, "withDevice: device is null");
    if (!deviceName.isEmpty() && !deviceName.matches("/(cpu|gpu):\\d+")) {
      throw new IllegalArgumentException("invalid device '" + deviceName + "' (expected /cpu:N or /gpu:N)");
    }
    return new Ops(graph, prefix, nextName, controlDeps, deviceName);
  }

  /** A builder for a node of any registered op type (user-defined ones too), with this scope applied. */
  public OperationBuilder opBuilder(String type) {
    Objects.requireNonNull(type, "opBuilder: type is null");
    return builder(type, type);
  }

  /** A builder with this scope applied; without withName, the node is auto-named from autoBase. */
  OperationBuilder builder(String type, String autoBase) {
    OperationBuilder b = nextName != null
        ? graph.opBuilder(type, prefix + nextName)
        : graph.opBuilder(type, null).autoName(prefix + autoBase);
    controlDeps.forEach(b::addControlInput);
    return b.setDevice(device);
  }

  /** A builder for a node named exactly {@code name} (under the scope); {@code method} names the caller for a null name. */
  private OperationBuilder named(String method, String type, String name) {
    Objects.requireNonNull(name, () -> method + ": name is null");
    OperationBuilder b = graph.opBuilder(type, prefix + name);
    controlDeps.forEach(b::addControlInput);
    return b.setDevice(device);
  }

  private Output unary(String type, Output x) {
    return opBuilder(type).addInput(x).build().output(0);
  }

  private Output binary(String type, Output x, Output y) {
    return opBuilder(type).addInput(x).addInput(y).build().output(0);
  }

  // ---------------------------------------------------------------- sources

  public Output placeholder(String name, DType dtype, Shape shape) {
    return named("placeholder", "Placeholder", name).setAttr("dtype", dtype).setAttr("shape", shape).build().output(0);
  }

  public Output constant(Tensor value) {
    return opBuilder("Const").setAttr("value", value).build().output(0);
  }

  public Output constant(float v) {
    return constant(Tensor.scalar(v));
  }

  public Output constant(double v) {
    return constant(Tensor.scalar(v));
  }

  public Output constant(int v) {
    return constant(Tensor.scalar(v));
  }

  public Output constant(long v) {
    return constant(Tensor.scalar(v));
  }

  public Output constant(boolean v) {
    return constant(Tensor.scalar(v));
  }

  /** A 1-D float constant. */
  public Output constant(float[] v) {
    Objects.requireNonNull(v, "constant: values is null");
    return constant(Tensor.of(v, v.length));
  }

  /** A scalar constant of {@code dtype} holding {@code v} (converted). */
  public Output constant(double v, DType dtype) {
    Objects.requireNonNull(dtype, "constant: dtype is null");
    return constant(switch (dtype) {
      case FLOAT32 -> Tensor.scalar((float) v);
      case FLOAT64 -> Tensor.scalar(v);
      case INT32 -> Tensor.scalar((int) v);
      case INT64 -> Tensor.scalar((long) v);
      case BOOL -> Tensor.scalar(v != 0);
      case FLOAT16, BFLOAT16 -> HostBuffers.adopt(dtype, Shape.scalar(), new float[] {Narrowing.toFloat(dtype, v)});
      case INT8, UINT8, INT16 -> HostBuffers.adopt(dtype, Shape.scalar(), new int[] {Narrowing.wrap(dtype, (long) v)});
    });
  }

  /** Standard normal FLOAT32 values of a fixed shape, from a seeded generator. */
  public Output randomNormal(Shape shape, long seed) {
    return randomNormal(shape, DType.FLOAT32, seed);
  }

  public Output randomNormal(Shape shape, DType dtype, long seed) {
    return opBuilder("RandomNormal").setAttr("shape", shape).setAttr("dtype", dtype).setAttr("seed", seed)
        .build().output(0);
  }

  /** Uniform FLOAT32 values in [0, 1) of a fixed shape, from a seeded generator. */
  public Output randomUniform(Shape shape, long seed) {
    return randomUniform(shape, DType.FLOAT32, seed);
  }

  public Output randomUniform(Shape shape, DType dtype, long seed) {
    return opBuilder("RandomUniform").setAttr("shape", shape).setAttr("dtype", dtype).setAttr("seed", seed)
        .build().output(0);
  }

  /** A tensor of {@code shape} filled with the scalar {@code value}. */
  public Output fill(Shape shape, Output value) {
    return opBuilder("Fill").addInput(value).setAttr("shape", shape).build().output(0);
  }

  public Output zerosLike(Output x) {
    return unary("ZerosLike", x);
  }

  public Output onesLike(Output x) {
    return unary("OnesLike", x);
  }

  // ---------------------------------------------------------------- state

  /**
   * A variable named {@code name} initialized to {@code initialValue} (evaluated only by the
   * initializer). Also adds its initializer, an Assign named {@code name/Assign}.
   */
  public Variable variable(String name, Output initialValue) {
    Objects.requireNonNull(name, "variable: name is null");
    return graph.atomically(() -> {
      Variable v = (Variable) named("variable", "Variable", name).addInput(initialValue).build().output(0);
      named("variable", "Assign", name + "/Assign").addInput(v).addInput(initialValue).build();
      return v;
    });
  }

  /** Sets {@code variable} to {@code value}; the output is the new value. */
  public Output assign(Output variable, Output value) {
    return binary("Assign", variable, value);
  }

  public Output assignAdd(Output variable, Output value) {
    return binary("AssignAdd", variable, value);
  }

  public Output assignSub(Output variable, Output value) {
    return binary("AssignSub", variable, value);
  }

  /** A node that does nothing but wait for its control inputs (TensorFlow's {@code tf.group}). */
  public Operation group(Operation... ops) {
    Objects.requireNonNull(ops, "group: ops is null");
    OperationBuilder b = opBuilder("NoOp");
    for (Operation op : ops) {
      b.addControlInput(op);
    }
    return b.build();
  }

  public Operation noOp() {
    return opBuilder("NoOp").build();
  }

  /** Runs the initializer of every variable created so far. */
  public Operation globalVariablesInitializer() {
    List<Operation> inits = graph.variables().stream().map(Variable::initializer).toList();
    OperationBuilder b = builder("NoOp", "init");
    inits.forEach(b::addControlInput);
    return b.build();
  }

  // ---------------------------------------------------------------- elementwise

  public Output identity(Output x) {
    return unary("Identity", x);
  }

  /** The value of x, through which no gradient flows (PyTorch's {@code detach()}). */
  public Output stopGradient(Output x) {
    return unary("StopGradient", x);
  }

  public Output add(Output x, Output y) {
    return binary("Add", x, y);
  }

  public Output sub(Output x, Output y) {
    return binary("Sub", x, y);
  }

  public Output mul(Output x, Output y) {
    return binary("Mul", x, y);
  }

  /** x / y; integer division truncates toward zero. */
  public Output div(Output x, Output y) {
    return binary("Div", x, y);
  }

  public Output pow(Output x, Output y) {
    return binary("Pow", x, y);
  }

  public Output maximum(Output x, Output y) {
    return binary("Maximum", x, y);
  }

  public Output minimum(Output x, Output y) {
    return binary("Minimum", x, y);
  }

  /** Sum of same-shaped values. */
  public Output addN(List<Output> xs) {
    Objects.requireNonNull(xs, "addN: xs is null");
    return opBuilder("AddN").addInputs(xs).build().output(0);
  }

  public Output neg(Output x) {
    return unary("Neg", x);
  }

  public Output square(Output x) {
    return unary("Square", x);
  }

  public Output sqrt(Output x) {
    return unary("Sqrt", x);
  }

  public Output rsqrt(Output x) {
    return unary("Rsqrt", x);
  }

  public Output reciprocal(Output x) {
    return unary("Reciprocal", x);
  }

  public Output exp(Output x) {
    return unary("Exp", x);
  }

  public Output log(Output x) {
    return unary("Log", x);
  }

  public Output sin(Output x) {
    return unary("Sin", x);
  }

  public Output cos(Output x) {
    return unary("Cos", x);
  }

  public Output abs(Output x) {
    return unary("Abs", x);
  }

  public Output sign(Output x) {
    return unary("Sign", x);
  }

  public Output relu(Output x) {
    return unary("Relu", x);
  }

  public Output sigmoid(Output x) {
    return unary("Sigmoid", x);
  }

  public Output tanh(Output x) {
    return unary("Tanh", x);
  }

  /** The error function. */
  public Output erf(Output x) {
    return unary("Erf", x);
  }

  /** 1 - erf(x), accurate where erf(x) is near 1. */
  public Output erfc(Output x) {
    return unary("Erfc", x);
  }

  /** log(1 + exp(x)). */
  public Output softplus(Output x) {
    return unary("Softplus", x);
  }

  /** x where x > 0, else exp(x) - 1. */
  public Output elu(Output x) {
    return unary("Elu", x);
  }

  /** The scaled ELU of self-normalizing networks (TensorFlow's constants). */
  public Output selu(Output x) {
    return unary("Selu", x);
  }

  /** x where x > 0, else 0.2 x. */
  public Output leakyRelu(Output x) {
    return unary("LeakyRelu", x);
  }

  /** x where x > 0, else alpha x. */
  public Output leakyRelu(Output x, double alpha) {
    return opBuilder("LeakyRelu").addInput(x).setAttr("alpha", alpha).build().output(0);
  }

  /** log(1 + x), accurate for small x. */
  public Output log1p(Output x) {
    return unary("Log1p", x);
  }

  /** exp(x) - 1, accurate for small x. */
  public Output expm1(Output x) {
    return unary("Expm1", x);
  }

  public Output floor(Output x) {
    return unary("Floor", x);
  }

  public Output ceil(Output x) {
    return unary("Ceil", x);
  }

  /** x rounded to the nearest integer, halves to even. */
  public Output round(Output x) {
    return unary("Round", x);
  }

  public Output atan(Output x) {
    return unary("Atan", x);
  }

  public Output tan(Output x) {
    return unary("Tan", x);
  }

  /** x - floor(x / y) * y: the remainder of floor division, with y's sign (TensorFlow's FloorMod). */
  public Output mod(Output x, Output y) {
    return binary("Mod", x, y);
  }

  /** The remainder of x / y truncated toward zero, with x's sign (C's fmod). */
  public Output truncateMod(Output x, Output y) {
    return binary("TruncateMod", x, y);
  }

  /** floor(x / y). */
  public Output floorDiv(Output x, Output y) {
    return binary("FloorDiv", x, y);
  }

  /** min(max(x, min), max). */
  public Output clip(Output x, double min, double max) {
    return opBuilder("Clip").addInput(x).setAttr("min", min).setAttr("max", max).build().output(0);
  }

  public Output cast(Output x, DType dtype) {
    return opBuilder("Cast").addInput(x).setAttr("dtype", dtype).build().output(0);
  }

  public Output less(Output x, Output y) {
    return binary("Less", x, y);
  }

  public Output lessEqual(Output x, Output y) {
    return binary("LessEqual", x, y);
  }

  public Output greater(Output x, Output y) {
    return binary("Greater", x, y);
  }

  public Output greaterEqual(Output x, Output y) {
    return binary("GreaterEqual", x, y);
  }

  public Output equal(Output x, Output y) {
    return binary("Equal", x, y);
  }

  public Output notEqual(Output x, Output y) {
    return binary("NotEqual", x, y);
  }

  public Output logicalAnd(Output x, Output y) {
    return binary("LogicalAnd", x, y);
  }

  public Output logicalOr(Output x, Output y) {
    return binary("LogicalOr", x, y);
  }

  public Output logicalNot(Output x) {
    return unary("LogicalNot", x);
  }

  /** Elementwise {@code cond ? x : y}, with broadcasting (NumPy's {@code where}). */
  public Output select(Output cond, Output x, Output y) {
    return opBuilder("Select").addInput(cond).addInput(x).addInput(y).build().output(0);
  }

  // ---------------------------------------------------------------- linear algebra, normalization

  public Output matmul(Output a, Output b) {
    return matmul(a, b, false, false);
  }

  /**
   * op(a) op(b), op transposing the last two axes where asked. Operands of rank 3 or more are batches of
   * matrices whose leading (batch) dimensions broadcast, as TensorFlow's {@code matmul} and NumPy's
   * {@code @}: a BatchMatMul node; two matrices (or operands of unknown rank) make a MatMul node.
   */
  public Output matmul(Output a, Output b, boolean transposeA, boolean transposeB) {
    Objects.requireNonNull(a, "matmul: a is null");
    Objects.requireNonNull(b, "matmul: b is null");
    String type = a.shape().rank() > 2 || b.shape().rank() > 2 ? "BatchMatMul" : "MatMul";
    return opBuilder(type).addInput(a).addInput(b)
        .setAttr("transpose_a", transposeA).setAttr("transpose_b", transposeB).build().output(0);
  }

  /** Softmax over the last axis. */
  public Output softmax(Output x) {
    return softmax(x, -1);
  }

  public Output softmax(Output x, int axis) {
    return opBuilder("Softmax").addInput(x).setAttr("axis", axis).build().output(0);
  }

  public Output logSoftmax(Output x) {
    return logSoftmax(x, -1);
  }

  public Output logSoftmax(Output x, int axis) {
    return opBuilder("LogSoftmax").addInput(x).setAttr("axis", axis).build().output(0);
  }

  // ---------------------------------------------------------------- reductions

  /** Sum over all axes: a scalar. */
  public Output reduceSum(Output x) {
    return reduce("Sum", x, allAxes("Sum", x), false);
  }

  public Output reduceSum(Output x, int[] axes, boolean keepDims) {
    return reduce("Sum", x, axes, keepDims);
  }

  public Output reduceMean(Output x) {
    return reduce("Mean", x, allAxes("Mean", x), false);
  }

  public Output reduceMean(Output x, int[] axes, boolean keepDims) {
    return reduce("Mean", x, axes, keepDims);
  }

  public Output reduceMax(Output x) {
    return reduce("Max", x, allAxes("Max", x), false);
  }

  public Output reduceMax(Output x, int[] axes, boolean keepDims) {
    return reduce("Max", x, axes, keepDims);
  }

  public Output reduceMin(Output x, int[] axes, boolean keepDims) {
    return reduce("Min", x, axes, keepDims);
  }

  public Output reduceProd(Output x, int[] axes, boolean keepDims) {
    return reduce("Prod", x, axes, keepDims);
  }

  /** Sums x over the axes along which {@code like} was broadcast, giving like's shape. */
  public Output reduceSumLike(Output x, Output like) {
    return binary("ReduceSumLike", x, like);
  }

  public Output argMax(Output x, int axis) {
    return opBuilder("ArgMax").addInput(x).setAttr("axis", axis).setAttr("output_type", DType.INT64)
        .build().output(0);
  }

  private Output reduce(String type, Output x, int[] axes, boolean keepDims) {
    Objects.requireNonNull(x, () -> "reduce" + type + ": x is null");
    Objects.requireNonNull(axes, () -> "reduce" + type + ": axes is null");
    return opBuilder(type).addInput(x).setAttr("axes", normalizeAxes(x.shape(), axes))
        .setAttr("keep_dims", keepDims).build().output(0);
  }

  private static int[] allAxes(String type, Output x) {
    Objects.requireNonNull(x, () -> "reduce" + type + ": x is null");
    if (!x.shape().hasKnownRank()) {
      throw new IllegalArgumentException(
          type + " of '" + x.name() + "': reducing over all axes needs a known rank, got " + x.shape());
    }
    int[] a = new int[x.shape().rank()];
    Arrays.setAll(a, i -> i);
    return a;
  }

  /** Sorted non-negative axes when the rank is known and all are in range; else as given. */
  private static int[] normalizeAxes(Shape s, int[] axes) {
    int r = s.rank();
    if (r < 0) {
      return axes.clone();
    }
    int[] out = axes.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i] < -r || out[i] >= r) {
        return axes.clone();
      }
      out[i] = out[i] < 0 ? out[i] + r : out[i];
    }
    Arrays.sort(out);
    return out;
  }

  // ---------------------------------------------------------------- shapes and layout

  /** Reshape; at most one dimension may be -1 and is then inferred. */
  public Output reshape(Output x, Shape shape) {
    return opBuilder("Reshape").addInput(x).setAttr("shape", shape).build().output(0);
  }

  public Output reshape(Output x, int... dims) {
    return reshape(x, Shape.of(Objects.requireNonNull(dims, "reshape: dims is null")));
  }

  /** x's values with like's shape. */
  public Output reshapeLike(Output x, Output like) {
    return binary("ReshapeLike", x, like);
  }

  public Output transpose(Output x, int... perm) {
    return opBuilder("Transpose").addInput(x).setAttr("perm", perm).build().output(0);
  }

  /** The 2-D transpose (reverses the axes of any rank). */
  public Output transpose(Output x) {
    Objects.requireNonNull(x, "transpose: x is null");
    int r = x.shape().rank();
    if (r < 0) {
      throw new IllegalArgumentException("Transpose of '" + x.name() + "': input has unknown rank; pass perm");
    }
    int[] perm = new int[r];
    Arrays.setAll(perm, i -> r - 1 - i);
    return transpose(x, perm);
  }

  public Output expandDims(Output x, int axis) {
    return opBuilder("ExpandDims").addInput(x).setAttr("axis", axis).build().output(0);
  }

  /** Removes the given size-1 axes, or every size-1 axis when none are given. */
  public Output squeeze(Output x, int... axes) {
    return opBuilder("Squeeze").addInput(x).setAttr("axes", axes).build().output(0);
  }

  public Output concat(List<Output> xs, int axis) {
    Objects.requireNonNull(xs, "concat: xs is null");
    return opBuilder("Concat").addInputs(xs).setAttr("axis", axis).build().output(0);
  }

  /** x[begin[i] : begin[i] + size[i]] along each axis; a size of -1 runs to the end. */
  public Output slice(Output x, int[] begin, int[] size) {
    return opBuilder("Slice").addInput(x).setAttr("begin", begin).setAttr("size", size).build().output(0);
  }

  /** Pads with zeros: {@code paddings} holds (before, after) for each axis. */
  public Output pad(Output x, int... paddings) {
    return opBuilder("Pad").addInput(x).setAttr("paddings", paddings).build().output(0);
  }

  /** One-hot FLOAT32 encoding along a new last axis. */
  public Output oneHot(Output indices, int depth) {
    return oneHot(indices, depth, DType.FLOAT32);
  }

  public Output oneHot(Output indices, int depth, DType dtype) {
    return opBuilder("OneHot").addInput(indices).setAttr("depth", depth).setAttr("dtype", dtype)
        .setAttr("on_value", 1.0).setAttr("off_value", 0.0).build().output(0);
  }

  // ---------------------------------------------------------------- gathers, scans, tiling, normalization

  /**
   * Slices of {@code params} along {@code axis} picked by integer {@code indices}: the result has shape
   * {@code params[:axis] + indices + params[axis+1:]} (TensorFlow's {@code gather}). An index below 0 or
   * not below the axis's size is an error naming the index and the bound: when the node is built if the
   * indices are a constant, otherwise when the Session runs. The gradient with respect to params is a
   * dense tensor of params' shape (the slices' gradients summed where an index repeats).
   */
  public Output gather(Output params, Output indices, int axis) {
    return opBuilder("Gather").addInput(params).addInput(indices).setAttr("axis", axis).build().output(0);
  }

  /**
   * Slices of {@code params} picked by index tuples: {@code indices} [..., q] holds tuples of q indices
   * into params' first q axes, and the result is {@code indices[:-1] + params[q:]} (TensorFlow's
   * {@code gather_nd}).
   */
  public Output gatherNd(Output params, Output indices) {
    return binary("GatherNd", params, indices);
  }

  /**
   * A zero tensor of {@code shape} with each slice of {@code updates} added at its index tuple of
   * {@code indices} [..., q]; repeated tuples add up (TensorFlow's {@code scatter_nd}).
   */
  public Output scatterNd(Output indices, Output updates, Shape shape) {
    return opBuilder("ScatterNd").addInput(indices).addInput(updates).setAttr("shape", shape).build().output(0);
  }

  /** x repeated {@code multiples[i]} times along each axis i. */
  public Output tile(Output x, int... multiples) {
    return opBuilder("Tile").addInput(x).setAttr("multiples", multiples).build().output(0);
  }

  /** x broadcast (NumPy's rules) to {@code shape}. */
  public Output broadcastTo(Output x, Shape shape) {
    return opBuilder("BroadcastTo").addInput(x).setAttr("shape", shape).build().output(0);
  }

  /** x cut into {@code parts} equal pieces along {@code axis}, whose size must be known and divisible. */
  public List<Output> split(Output x, int parts, int axis) {
    Objects.requireNonNull(x, "split: x is null");
    int k = knownAxis("split", x, axis);
    int d = x.shape().dim(k);
    if (parts <= 0 || d < 0 || d % parts != 0) {
      throw new IllegalArgumentException("split of '" + x.name() + "': axis " + axis + " of " + x.shape()
          + (d < 0 ? " has an unknown size" : " (size " + d + ") does not divide into " + parts + " equal parts"));
    }
    int[] sizes = new int[parts];
    Arrays.fill(sizes, d / parts);
    return split(x, sizes, axis);
  }

  /** x cut along {@code axis} into pieces of the given sizes, which must add up to the axis's size. */
  public List<Output> split(Output x, int[] sizes, int axis) {
    Objects.requireNonNull(x, "split: x is null");
    Objects.requireNonNull(sizes, "split: sizes is null");
    int k = knownAxis("split", x, axis);
    int d = x.shape().dim(k);
    long total = Arrays.stream(sizes).asLongStream().sum();
    if (Arrays.stream(sizes).anyMatch(s -> s < 0) || d < 0 || total != d) {
      throw new IllegalArgumentException("split of '" + x.name() + "': sizes " + Arrays.toString(sizes)
          + " must be >= 0 and add up to the size of axis " + axis + " of " + x.shape());
    }
    return graph.atomically(() -> {
      List<Output> out = new ArrayList<>();
      int offset = 0;
      for (int s : sizes) {
        int[] begin = new int[x.shape().rank()];
        int[] size = new int[begin.length];
        Arrays.fill(size, -1);
        begin[k] = offset;
        size[k] = s;
        out.add(slice(x, begin, size));
        offset += s;
      }
      return List.copyOf(out);
    });
  }

  /** Same-shaped values stacked along a new axis {@code axis} (TensorFlow's {@code stack}). */
  public Output stack(List<Output> xs, int axis) {
    Objects.requireNonNull(xs, "stack: xs is null");
    if (xs.isEmpty()) {
      throw new IllegalArgumentException("stack: needs at least one value");
    }
    return graph.atomically(() -> {
      List<Output> expanded = new ArrayList<>();
      for (Output x : xs) {
        expanded.add(expandDims(Objects.requireNonNull(x, "stack: a value is null"), axis));
      }
      return concat(expanded, axis);
    });
  }

  /** The slices of x along {@code axis}, each without that axis, whose size must be known. */
  public List<Output> unstack(Output x, int axis) {
    Objects.requireNonNull(x, "unstack: x is null");
    int k = knownAxis("unstack", x, axis);
    int d = x.shape().dim(k);
    if (d < 0) {
      throw new IllegalArgumentException("unstack of '" + x.name() + "': axis " + axis + " of " + x.shape()
          + " has an unknown size");
    }
    return graph.atomically(() -> {
      List<Output> out = new ArrayList<>();
      for (int i = 0; i < d; i++) {
        int[] begin = new int[x.shape().rank()];
        int[] size = new int[begin.length];
        Arrays.fill(size, -1);
        begin[k] = i;
        size[k] = 1;
        out.add(squeeze(slice(x, begin, size), k));
      }
      return List.copyOf(out);
    });
  }

  private static int knownAxis(String method, Output x, int axis) {
    int r = x.shape().rank();
    if (r < 0) {
      throw new IllegalArgumentException(method + " of '" + x.name() + "': input has unknown rank");
    }
    if (axis < -r || axis >= r) {
      throw new IllegalArgumentException(method + " of '" + x.name() + "': axis " + axis
          + " out of range for rank " + r + " input " + x.shape());
    }
    return axis < 0 ? axis + r : axis;
  }

  /** Running sums of x along {@code axis}. */
  public Output cumsum(Output x, int axis) {
    return cumsum(x, axis, false, false);
  }

  /**
   * Running sums along {@code axis}; {@code exclusive} leaves each element out of its own sum (the first
   * is 0), {@code reverse} sums from the end (TensorFlow's {@code cumsum}).
   */
  public Output cumsum(Output x, int axis, boolean exclusive, boolean reverse) {
    return opBuilder("Cumsum").addInput(x).setAttr("axis", axis).setAttr("exclusive", exclusive)
        .setAttr("reverse", reverse).build().output(0);
  }

  /**
   * The k largest entries along the last axis, largest first (ties: the lower index first), and their
   * INT32 indices: a list of two outputs, values then indices.
   */
  public List<Output> topK(Output x, int k) {
    return topK(x, k, true);
  }

  /**
   * {@link #topK(Output, int)}; with {@code sorted} false the same k entries come in the order of
   * their indices (TensorFlow leaves that order unspecified), which spares sorting them.
   */
  public List<Output> topK(Output x, int k, boolean sorted) {
    return opBuilder("TopK").addInput(x).setAttr("k", k).setAttr("sorted", sorted).build().outputs();
  }

  /** start, start + delta, ... up to but excluding limit, as a 1-D tensor of {@code dtype}. */
  public Output range(double start, double limit, double delta, DType dtype) {
    return opBuilder("Range").setAttr("start", start).setAttr("limit", limit).setAttr("delta", delta)
        .setAttr("dtype", dtype).build().output(0);
  }

  /** 0, 1, ..., limit - 1 as INT32. */
  public Output range(int limit) {
    return range(0, limit, 1, DType.INT32);
  }

  /** Elementwise {@code cond ? x : y} with the three broadcast together (TensorFlow 2's {@code where}). */
  public Output where(Output cond, Output x, Output y) {
    return select(cond, x, y);
  }

  /** The index of the smallest entry along {@code axis} (the first among ties), as INT64. */
  public Output argMin(Output x, int axis) {
    return opBuilder("ArgMin").addInput(x).setAttr("axis", axis).setAttr("output_type", DType.INT64)
        .build().output(0);
  }

  /**
   * A one-hot encoding with the new axis of size {@code depth} at {@code axis} (-1: last), holding
   * {@code on} at the index and {@code off} elsewhere; an index outside 0..depth-1 gives all {@code off}.
   */
  public Output oneHot(Output indices, int depth, int axis, DType dtype, double on, double off) {
    Objects.requireNonNull(indices, "oneHot: indices is null");
    int r = indices.shape().rank();
    if (axis != -1 && (r < 0 || axis < -r - 1 || axis > r)) {
      throw new IllegalArgumentException("OneHot of '" + indices.name() + "': axis " + axis
          + (r < 0 ? " needs indices of known rank" : " out of range for a new axis of rank " + r + " indices: -"
          + (r + 1) + ".." + r));
    }
    int k = axis < 0 ? axis + r + 1 : axis;
    return graph.atomically(() -> {
      Output hot = opBuilder("OneHot").addInput(indices).setAttr("depth", depth).setAttr("dtype", dtype)
          .setAttr("on_value", on).setAttr("off_value", off).build().output(0);
      if (axis == -1 || k == r) {
        return hot;
      }
      int[] perm = new int[r + 1];
      for (int i = 0, j = 0; i <= r; i++) {
        perm[i] = i == k ? r : j++;
      }
      return transpose(hot, perm);
    });
  }

  /** x limited to [lo, hi] elementwise, the bounds broadcast against x. */
  public Output clipByValue(Output x, Output lo, Output hi) {
    return graph.atomically(() -> minimum(maximum(x, lo), hi));
  }

  /** x limited to [lo, hi]: one Clip node. */
  public Output clipByValue(Output x, double lo, double hi) {
    return clip(x, lo, hi);
  }

  /** sqrt of the sum of squares of all elements of all the values (TensorFlow's {@code global_norm}). */
  public Output globalNorm(List<Output> xs) {
    Objects.requireNonNull(xs, "globalNorm: xs is null");
    if (xs.isEmpty()) {
      throw new IllegalArgumentException("globalNorm: needs at least one value");
    }
    return graph.atomically(() -> {
      List<Output> sums = new ArrayList<>();
      for (Output x : xs) {
        sums.add(reduceSum(square(Objects.requireNonNull(x, "globalNorm: a value is null"))));
      }
      return sqrt(sums.size() == 1 ? sums.get(0) : addN(sums));
    });
  }

  /**
   * The values scaled by {@code clipNorm / max(globalNorm(xs), clipNorm)}, so that their global norm is
   * at most clipNorm (TensorFlow's {@code clip_by_global_norm}; {@link #globalNorm} gives the norm).
   */
  public List<Output> clipByGlobalNorm(List<Output> xs, double clipNorm) {
    if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
      throw new IllegalArgumentException("clipByGlobalNorm: clipNorm must be a finite number > 0, got " + clipNorm);
    }
    return graph.atomically(() -> {
      Output norm = globalNorm(xs);
      Output c = constant(clipNorm, norm.dtype());
      Output scale = div(c, maximum(norm, c));
      List<Output> out = new ArrayList<>();
      for (Output x : xs) {
        out.add(mul(x, scale));
      }
      return List.copyOf(out);
    });
  }

  /**
   * Batch normalization over every axis but the last (channels last): {@code (x - mean) /
   * sqrt(var + epsilon) * scale + offset}, one fused node. With {@code training}, the statistics are
   * x's own (the biased variance) and {@code mean}/{@code variance} are not read; otherwise they are the
   * given ones. Returns y, then the statistics used (to update moving averages from).
   */
  public List<Output> batchNorm(Output x, Output scale, Output offset, Output mean, Output variance, double epsilon,
      boolean training) {
    return opBuilder("BatchNorm").addInput(x).addInput(scale).addInput(offset).addInput(mean).addInput(variance)
        .setAttr("epsilon", epsilon).setAttr("training", training).build().outputs();
  }

  /** Layer normalization over the last axis, then {@code * gamma + beta}: one fused node. */
  public Output layerNorm(Output x, Output gamma, Output beta, double epsilon) {
    return opBuilder("LayerNorm").addInput(x).addInput(gamma).addInput(beta).setAttr("epsilon", epsilon)
        .build().output(0);
  }

  // ---------------------------------------------------------------- convolution, pooling, bias

  /**
   * A 2-D convolution, TensorFlow's {@code conv2d}: input {@code [N,H,W,C]}, filter
   * {@code [kh,kw,C,K]} (HWIO), output {@code [N,OH,OW,K]}. {@code strides} has 2 entries (height,
   * width) or 4 in NHWC order; {@code padding} is {@code "SAME"} (output ceil(H/stride), the odd
   * padding pixel after) or {@code "VALID"}. A filter of input depth C/g convolves g groups of
   * channels separately (grouped convolution).
   */
  public Output conv2d(Output input, Output filter, int[] strides, String padding) {
    return conv2d(input, filter, strides, padding, new int[] {1, 1}, new int[0], "NHWC");
  }

  /**
   * {@link #conv2d(Output, Output, int[], String)} with dilations (2 or 4 entries), explicit paddings
   * (with padding {@code "EXPLICIT"}: {top, bottom, left, right}, or 8 entries in data-format order)
   * and a data format ({@code "NHWC"} or {@code "NCHW"}, which orders strides, dilations, the input and
   * the output; the filter stays HWIO).
   */
  public Output conv2d(Output input, Output filter, int[] strides, String padding, int[] dilations,
      int[] explicitPaddings, String dataFormat) {
    return opBuilder("Conv2D").addInput(input).addInput(filter).setAttr("strides", strides).setAttr("padding", padding)
        .setAttr("dilations", dilations).setAttr("explicit_paddings", explicitPaddings)
        .setAttr("data_format", dataFormat).build().output(0);
  }

  /**
   * TensorFlow's {@code depthwise_conv2d}: filter {@code [kh,kw,C,M]} convolves each input channel
   * with its own M filters, giving C*M output channels (channel c*M+m). Built as a convolution of C
   * groups over the filter reshaped to {@code [kh,kw,1,C*M]}, the same memory.
   */
  public Output depthwiseConv2d(Output input, Output filter, int[] strides, String padding) {
    return depthwiseConv2d(input, filter, strides, padding, new int[] {1, 1}, "NHWC");
  }

  public Output depthwiseConv2d(Output input, Output filter, int[] strides, String padding, int[] dilations,
      String dataFormat) {
    Objects.requireNonNull(filter, "depthwiseConv2d: filter is null");
    Shape f = filter.shape();
    if (!f.isFullyDefined() || f.rank() != 4) {
      throw new IllegalArgumentException("depthwiseConv2d: filter '" + filter.name()
          + "' must have a fully defined shape [kh,kw,C,M], got " + f);
    }
    return graph.atomically(() -> conv2d(input, reshape(filter, f.dim(0), f.dim(1), 1, f.dim(2) * f.dim(3)),
        strides, padding, dilations, new int[0], dataFormat));
  }

  /**
   * The transposed convolution (TensorFlow's {@code conv2d_transpose}): the gradient of
   * {@link #conv2d} with respect to its input, as a Conv2DBackpropInput node. {@code value}
   * {@code [N,H,W,K]}, filter {@code [kh,kw,C,K]}, result {@code outputShape} {@code [N,OH,OW,C]} (its
   * batch may be unknown, -1), which conv2d with these strides and padding maps back to value's shape.
   */
  public Output conv2dTranspose(Output value, Output filter, Shape outputShape, int[] strides, String padding) {
    return opBuilder("Conv2DBackpropInput").addInput(filter).addInput(value).setAttr("input_sizes", outputShape)
        .setAttr("strides", strides).setAttr("padding", padding).build().output(0);
  }

  /** Max pooling: windows of {@code ksize}, 2 entries (height, width) or 4 in NHWC order. */
  public Output maxPool(Output input, int[] ksize, int[] strides, String padding) {
    return maxPool(input, ksize, strides, padding, "NHWC");
  }

  public Output maxPool(Output input, int[] ksize, int[] strides, String padding, String dataFormat) {
    return pool("MaxPool", input, ksize, strides, padding, dataFormat);
  }

  /** Average pooling; with SAME padding a window averages only the elements inside the input. */
  public Output avgPool(Output input, int[] ksize, int[] strides, String padding) {
    return avgPool(input, ksize, strides, padding, "NHWC");
  }

  public Output avgPool(Output input, int[] ksize, int[] strides, String padding, String dataFormat) {
    return pool("AvgPool", input, ksize, strides, padding, dataFormat);
  }

  private Output pool(String type, Output input, int[] ksize, int[] strides, String padding, String dataFormat) {
    return opBuilder(type).addInput(input).setAttr("ksize", ksize).setAttr("strides", strides)
        .setAttr("padding", padding).setAttr("data_format", dataFormat).build().output(0);
  }

  /** value + bias along the channel axis (the last one). */
  public Output biasAdd(Output value, Output bias) {
    return biasAdd(value, bias, "NHWC");
  }

  /** value + bias along the channel axis: the last one for NHWC, dimension 1 for NCHW. */
  public Output biasAdd(Output value, Output bias, String dataFormat) {
    return opBuilder("BiasAdd").addInput(value).addInput(bias).setAttr("data_format", dataFormat).build().output(0);
  }

  // ---------------------------------------------------------------- control flow (ControlFlow)

  /**
   * TensorFlow's {@code tf.cond}: the values of {@code thenBranch} when the scalar bool {@code pred}
   * is true, else those of {@code elseBranch}; only the branch taken runs. The branches build their
   * values with this same {@code Ops} and may use any value of the enclosing graph (captured
   * automatically). Both return the same number of values with equal dtypes; result i has the most
   * specific shape compatible with both branches' value i.
   *
   * @throws IllegalArgumentException naming the node if pred is not a scalar bool or the branches
   *     differ in arity or dtype
   */
  public List<Output> cond(Output pred, java.util.function.Supplier<List<Output>> thenBranch,
      java.util.function.Supplier<List<Output>> elseBranch) {
    return ControlFlow.cond(this, pred, thenBranch, elseBranch);
  }

  /**
   * TensorFlow's {@code tf.while_loop}: while {@code cond} (a scalar bool) holds for the loop values,
   * replaces them with {@code body}'s; returns the final values. Both closures build with this same
   * {@code Ops}, see the loop values as their arguments and may use any value of the enclosing graph
   * (captured, not copied per iteration). A loop value keeps its initial shape (see
   * {@link WhileOptions#shapeInvariant} for one that changes). A body may assign a captured variable
   * ({@link #assign} and friends): each iteration sees the previous one's assigns; within an iteration
   * a read ordered after an assign (by a data or control dependency) sees the new value, any other
   * read the value from before it. As in TensorFlow 1.x, an assign runs only if a result depends on it.
   */
  public List<Output> whileLoop(java.util.function.Function<List<Output>, Output> cond,
      java.util.function.Function<List<Output>, List<Output>> body, List<Output> loopVars) {
    return whileLoop(cond, body, loopVars, WhileOptions.defaults());
  }

  /** {@link #whileLoop(java.util.function.Function, java.util.function.Function, List)} with options. */
  public List<Output> whileLoop(java.util.function.Function<List<Output>, Output> cond,
      java.util.function.Function<List<Output>, List<Output>> body, List<Output> loopVars, WhileOptions options) {
    return ControlFlow.whileLoop(this, cond, body, loopVars, options);
  }

  /**
   * A {@link TensorArray} of {@code size} zero elements of {@code elementShape} (fully defined), to
   * fill with {@link TensorArray#write}.
   */
  public TensorArray tensorArray(DType dtype, int size, Shape elementShape) {
    Objects.requireNonNull(dtype, "tensorArray: dtype is null");
    Objects.requireNonNull(elementShape, "tensorArray: elementShape is null");
    if (size < 0 || !elementShape.hasKnownRank()) {
      throw new IllegalArgumentException("tensorArray: size " + size + " must be >= 0 and the element shape "
          + elementShape + " of known rank");
    }
    int[] dims = new int[elementShape.rank() + 1];
    dims[0] = size;
    System.arraycopy(elementShape.dims(), 0, dims, 1, elementShape.rank());
    return new TensorArray(this, fill(Shape.of(dims), constant(0, dtype)));
  }

  /** A {@link TensorArray} of {@code size} zero elements shaped like {@code elementLike} (whose dimensions may be unknown). */
  public TensorArray tensorArray(int size, Output elementLike) {
    Objects.requireNonNull(elementLike, "tensorArray: elementLike is null");
    if (size < 0 || !elementLike.shape().hasKnownRank()) {
      throw new IllegalArgumentException("tensorArray: size " + size + " must be >= 0 and '" + elementLike.name()
          + "' of known rank, got " + elementLike.shape());
    }
    int[] multiples = new int[elementLike.shape().rank() + 1];
    java.util.Arrays.fill(multiples, 1);
    multiples[0] = size;
    return new TensorArray(this, graph().atomically(() -> tile(expandDims(zerosLike(elementLike), 0), multiples)));
  }

  /** The tensor array whose elements are the slices of {@code flow} along axis 0 (TF's {@code unstack}); also rewraps a loop variable. */
  public TensorArray tensorArray(Output flow) {
    return new TensorArray(this, flow);
  }

  // ================================================================ gradients (autodiff)
  // Everything below this line belongs to symbolic differentiation; see Gradients.java.

  /**
   * The gradients of {@code y} with respect to each of {@code xs} (TensorFlow's
   * {@code tf.gradients(y, xs)}): reverse-mode nodes appended to the graph, under a
   * {@code gradients/} name scope, built atomically (all of them or none). A non-scalar {@code y} is
   * seeded with ones, so its gradient is that of {@code reduceSum(y)}. Gradients of a value used
   * several times are summed.
   *
   * <p>An {@code x} that {@code y} does not depend on (or only through {@link #stopGradient}) gets a
   * zero gradient of x's shape, never null. Only float values are differentiated: integer and bool
   * edges (comparisons, casts to integers, indices) carry no gradient. The result is ordinary graph
   * nodes, so it can be differentiated again (second derivatives, Hessian-vector products).
   *
   * <p>There is no {@code torch.no_grad()} to remember: a graph holds gradient nodes only where
   * {@code gradients} was called, and a Session run computes only what its fetches need, so a run
   * that fetches a forward value evaluates no gradient node at all.
   *
   * @throws IllegalArgumentException if y or an x is not in this graph (another graph's, or rolled
   *     back by a failed {@link Graph#atomically}) or not float, or if an op
   *     between them has no registered gradient (the message names its type and node)
   */
  public List<Output> gradients(Output y, Output... xs) {
    return gradients(single(y), Arrays.asList(Objects.requireNonNull(xs, "gradients: xs is null")), List.of());
  }

  /** As {@link #gradients(Output, Output...)}, with xs in a list. */
  public List<Output> gradients(Output y, List<Output> xs) {
    return gradients(single(y), xs, List.of());
  }

  private static List<Output> single(Output y) {
    return List.of(Objects.requireNonNull(y, "gradients: y is null"));
  }

  /**
   * The gradients of {@code sum(ys)} with respect to each of {@code xs}, every y seeded with ones
   * (see {@link #gradients(Output, Output...)}).
   */
  public List<Output> gradients(List<Output> ys, List<Output> xs) {
    return gradients(ys, xs, List.of());
  }

  /**
   * The gradients of the ys with respect to each of {@code xs}, where {@code gradYs.get(i)} is the
   * gradient flowing into {@code ys.get(i)} (PyTorch's {@code y.backward(gradient)}): the result is
   * the vector-Jacobian product {@code sum_i gradYs[i] . d ys[i] / d x}. An empty {@code gradYs}
   * seeds every y with ones; otherwise it holds one value per y, of y's dtype and shape.
   */
  public List<Output> gradients(List<Output> ys, List<Output> xs, List<Output> gradYs) {
    return Gradients.build(this, nonNull(ys, "y"), nonNull(xs, "x"), nonNull(gradYs, "gradY"));
  }

  /** An immutable copy of {@code list}, failing with a message naming a null list or element. */
  private static List<Output> nonNull(List<Output> list, String what) {
    Objects.requireNonNull(list, () -> "gradients: " + what + "s is null");
    for (int i = 0; i < list.size(); i++) {
      int k = i;
      Objects.requireNonNull(list.get(i), () -> "gradients: " + what + " " + k + " is null");
    }
    return List.copyOf(list);
  }

  /**
   * Outputs computed by {@code forward} whose gradient is given by {@code backward} instead of by
   * differentiating forward's nodes: the graph twin of subclassing {@code torch.autograd.Function}.
   * {@code forward} builds the outputs from {@code inputs}; when a gradient pass reaches them it calls
   * {@code backward(tf, inputs, outputs, outputGradients)}, which builds one gradient per input. The
   * forward nodes run as usual. A ReLU whose gradient is written by hand:
   *
   * <pre>{@code
   * Output h = tf.customGradient(List.of(x),
   *     in -> List.of(tf.maximum(in.get(0), tf.constant(0f))),
   *     (g, in, out, dOut) -> List.of(
   *         g.select(g.greater(in.get(0), g.constant(0f)), dOut.get(0), g.zerosLike(dOut.get(0)))))
   *     .get(0);
   * }</pre>
   *
   * <p>The backward function is kept by the graph (it is Java code), so it is not saved with the
   * graph's text form. With several outputs, backward is called once per output that receives a
   * gradient, with zeros for the others, and the results are summed; it must be linear in the output
   * gradients, as every gradient is.
   */
  public List<Output> customGradient(List<Output> inputs, java.util.function.Function<List<Output>, List<Output>> forward,
      CustomBackward backward) {
    Objects.requireNonNull(inputs, "customGradient: inputs is null");
    Objects.requireNonNull(forward, "customGradient: forward is null");
    Objects.requireNonNull(backward, "customGradient: backward is null");
    return CustomGradients.build(this, inputs, forward, backward);
  }
}
