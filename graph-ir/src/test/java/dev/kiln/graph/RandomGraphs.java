package dev.kiln.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

/**
 * Seeded random graphs for property tests: every registered op type gets a recipe that builds a valid
 * node from the values made so far (an op type without one is tried generically), with random names
 * (sub-scopes with '/', '.', '-'), devices, control dependencies, extra attributes of every value kind
 * (on {@link AnnotatedOp} nodes) and nested subgraphs.
 */
final class RandomGraphs {
  private static final DType[] DTYPES = DType.values();
  private static final List<String> SCOPES = List.of("layer1", "dense-2", "block.3", "a_b", "x.y-z");
  private static final List<String> DEVICES = List.of("", "", "", "/cpu:0", "/gpu:0", "/gpu:1");

  static {
    AnnotatedOp.register();
  }

  private final Random rnd;
  private final Graph graph;
  private final List<Output> pool = new ArrayList<>();
  private final int depth;
  private Ops scope;

  private RandomGraphs(Random rnd, Graph graph, int depth) {
    this.rnd = rnd;
    this.graph = graph;
    this.depth = depth;
  }

  /** A graph of about {@code size} nodes. */
  static Graph generate(long seed, int size) {
    Graph g = new Graph();
    new RandomGraphs(new Random(seed), g, 0).fill(size);
    return g;
  }

  private void fill(int size) {
    List<String> types = new ArrayList<>(builtinTypes());
    int attempts = 0;
    while (graph.size() < size && attempts++ < size * 20) {
      scope = randomScope();
      String type = types.get(rnd.nextInt(types.size()));
      int mark = pool.size();
      try {
        Operation op = graph.atomically(() -> build(type));
        if (op != null) {
          pool.addAll(op.outputs());
        }
      } catch (IllegalArgumentException e) {
        // The recipe's random choice was invalid (e.g. a generic attempt for an unknown op): forget
        // the values made for it, which the graph has rolled back, and retry.
        pool.subList(mark, pool.size()).clear();
      }
      if (!graph.operations().isEmpty() && rnd.nextInt(6) == 0) {
        decorate();
      }
    }
  }

  /**
   * The built-in op types (table-defined {@link OpSpec}s and the elementwise ops defined before
   * {@link ElementwiseOpDefinitionTest#NEW_OPS} and their primitive TruncateMod), sorted. Types that other tests register are left
   * out, so that a seed gives the same graph whatever ran before.
   */
  static List<String> builtinTypes() {
    return OpRegistry.types().stream().filter(t -> OpRegistry.get(t) instanceof OpSpec
        || (OpRegistry.get(t) instanceof ElementwiseOp && !ElementwiseOpDefinitionTest.NEW_OPS.contains(t)
        && !t.equals(Primitive.TRUNCATE_MOD.opType()))).toList();
  }

  private Ops randomScope() {
    Ops s = Ops.create(graph);
    if (rnd.nextInt(3) == 0) {
      s = s.withSubScope(SCOPES.get(rnd.nextInt(SCOPES.size())));
    }
    if (rnd.nextInt(8) == 0) {
      s = s.withName("n" + rnd.nextInt(1000) + ".v-" + rnd.nextInt(10));
    }
    if (rnd.nextInt(4) == 0) {
      s = s.withDevice(DEVICES.get(rnd.nextInt(DEVICES.size())));
    }
    if (rnd.nextInt(6) == 0 && graph.size() > 0) {
      List<Operation> ops = graph.operations();
      s = s.withControlDependencies(List.of(ops.get(rnd.nextInt(ops.size()))));
    }
    return s;
  }

  // ---------------------------------------------------------------- recipes

  private OperationBuilder b(String type) {
    return scope.opBuilder(type);
  }

  private Operation build(String type) {
    return switch (type) {
      case "Placeholder", "Parameter" -> b(type).setAttr("dtype", dtype()).setAttr("shape", shape(true)).build();
      case "Const" -> b(type).setAttr("value", tensor()).build();
      case "RandomNormal", "RandomUniform" -> b(type).setAttr("dtype", rnd.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64)
          .setAttr("shape", shape(false)).setAttr("seed", rnd.nextLong()).build();
      case "Fill" -> b(type).addInput(scalar(dtype())).setAttr("shape", shape(false)).build();
      case "Variable" -> {
        Output init = pick(o -> o.shape().isFullyDefined(), () -> constant(tensor()));
        Variable v = scope.variable("var" + graph.size(), init);
        yield v.op();
      }
      case "Assign", "AssignAdd", "AssignSub" -> {
        Variable v = graph.variables().isEmpty() ? Ops.create(graph).variable("v" + graph.size(), constant(tensor()))
            : graph.variables().get(rnd.nextInt(graph.variables().size()));
        Output value = rnd.nextBoolean() ? v.initialValue() : constant(Tensor.zeros(v.dtype(), v.shape()));
        yield b(type).addInput(v).addInput(value).build();
      }
      case "NoOp" -> {
        OperationBuilder nb = b(type);
        for (int i = rnd.nextInt(3); i > 0 && graph.size() > 0; i--) {
          nb.addControlInput(graph.operations().get(rnd.nextInt(graph.size())));
        }
        yield nb.build();
      }
      case "Reshape" -> {
        Output x = any();
        long n = x.shape().numElements();
        Shape target = n >= 0 && rnd.nextBoolean() ? Shape.of((int) n) : rnd.nextBoolean() ? Shape.of(-1) : Shape.of(1, -1);
        yield b(type).addInput(x).setAttr("shape", target).build();
      }
      case "ReshapeLike" -> {
        Output x = any();
        yield b(type).addInput(x).addInput(rnd.nextBoolean() ? x : pick(o -> sameCount(o, x), () -> x)).build();
      }
      case "ExpandDims" -> {
        Output x = known();
        yield b(type).addInput(x).setAttr("axis", rnd.nextInt(2 * x.shape().rank() + 2) - x.shape().rank() - 1).build();
      }
      case "Squeeze" -> {
        Output x = known();
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < x.shape().rank(); i++) {
          if (x.shape().dim(i) == 1) {
            axes.add((long) i);
          }
        }
        yield axes.isEmpty() ? null : b(type).addInput(x).setAttr("axes", axes).build();
      }
      case "Cast" -> b(type).addInput(any()).setAttr("dtype", dtype()).build();
      case "Select" -> {
        Output x = numeric();
        Output cond = b("Less").addInput(x).addInput(x).build().output(0);
        yield b(type).addInput(cond).addInput(x).addInput(x).build();
      }
      case "AddN" -> {
        Output x = numeric();
        OperationBuilder nb = b(type);
        for (int i = 1 + rnd.nextInt(3); i > 0; i--) {
          nb.addInput(x);
        }
        yield nb.build();
      }
      case "MatMul" -> {
        Output a = pick(o -> o.dtype().isNumeric() && o.shape().rank() == 2, () -> placeholder(DType.FLOAT32, Shape.of(-1, 3)));
        boolean ta = rnd.nextBoolean();
        boolean tb = rnd.nextBoolean();
        int k = a.shape().dim(ta ? 0 : 1);
        int n = 1 + rnd.nextInt(4);
        Output bm = placeholder(a.dtype(), tb ? Shape.of(n, k) : Shape.of(k, n));
        yield b(type).addInput(a).addInput(bm).setAttr("transpose_a", ta).setAttr("transpose_b", tb).build();
      }
      case "Softmax", "LogSoftmax" -> {
        Output x = pick(o -> o.dtype().isFloating() && o.shape().rank() >= 1, () -> placeholder(DType.FLOAT32, Shape.of(-1, 4)));
        yield b(type).addInput(x).setAttr("axis", axis(x.shape().rank())).build();
      }
      case "Sum", "Mean", "Max", "Min", "Prod" -> {
        Output x = pick(o -> o.dtype().isNumeric() && o.shape().hasKnownRank(), () -> placeholder(DType.FLOAT32, Shape.of(2, 3)));
        List<Long> axes = new ArrayList<>();
        for (int i = 0; i < x.shape().rank(); i++) {
          if (rnd.nextBoolean()) {
            axes.add((long) i);
          }
        }
        yield b(type).addInput(x).setAttr("axes", axes).setAttr("keep_dims", rnd.nextBoolean()).build();
      }
      case "ReduceSumLike" -> {
        Output x = numeric();
        yield b(type).addInput(x).addInput(rnd.nextBoolean() ? x : scalar(x.dtype())).build();
      }
      case "ArgMax" -> {
        Output x = pick(o -> o.dtype().isNumeric() && o.shape().rank() >= 1, () -> placeholder(DType.INT32, Shape.of(3, 2)));
        OperationBuilder nb = b(type).addInput(x).setAttr("axis", axis(x.shape().rank()));
        if (rnd.nextBoolean()) {
          nb.setAttr("output_type", rnd.nextBoolean() ? DType.INT32 : DType.INT64);
        }
        yield nb.build();
      }
      case "Transpose" -> {
        Output x = known();
        List<Long> perm = new ArrayList<>();
        for (long i = 0; i < x.shape().rank(); i++) {
          perm.add(i);
        }
        Collections.shuffle(perm, rnd);
        yield b(type).addInput(x).setAttr("perm", perm).build();
      }
      case "Concat" -> {
        Output x = pick(o -> o.shape().rank() >= 1, () -> placeholder(dtype(), Shape.of(2, -1)));
        OperationBuilder nb = b(type);
        for (int i = 1 + rnd.nextInt(3); i > 0; i--) {
          nb.addInput(x);
        }
        yield nb.setAttr("axis", axis(x.shape().rank())).build();
      }
      case "Slice" -> {
        Output x = pick(o -> o.shape().isFullyDefined() && o.shape().rank() >= 1, () -> placeholder(dtype(), Shape.of(3, 4)));
        int[] dims = x.shape().dims();
        long[] begin = new long[dims.length];
        long[] size = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
          begin[i] = rnd.nextInt(dims[i] + 1);
          size[i] = rnd.nextBoolean() ? -1 : rnd.nextInt((int) (dims[i] - begin[i]) + 1);
        }
        yield b(type).addInput(x).setAttr("begin", begin).setAttr("size", size).build();
      }
      case "Pad" -> {
        Output x = known();
        long[] p = new long[2 * x.shape().rank()];
        for (int i = 0; i < p.length; i++) {
          p[i] = rnd.nextInt(3);
        }
        yield b(type).addInput(x).setAttr("paddings", p).build();
      }
      case "OneHot" -> {
        Output x = pick(o -> o.dtype().isInteger(), () -> placeholder(DType.INT64, Shape.of(-1)));
        yield b(type).addInput(x).setAttr("depth", 1 + rnd.nextInt(5))
            .setAttr("dtype", List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64).get(rnd.nextInt(4)))
            .setAttr("on_value", rnd.nextGaussian()).setAttr("off_value", rnd.nextGaussian()).build();
      }
      case "Fused" -> fused();
      case "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad",
          "BiasAdd", "FusedConv2D" -> convolution(type);
      default -> generic(type);
    };
  }

  /** A convolution, pooling or bias node over float NHWC/NCHW placeholders of matching shapes. */
  private Operation convolution(String type) {
    DType d = rnd.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
    boolean nchw = rnd.nextBoolean();
    String format = nchw ? "NCHW" : "NHWC";
    int[] strides = {1 + rnd.nextInt(2), 1 + rnd.nextInt(2)};
    String padding = rnd.nextBoolean() ? "SAME" : "VALID";
    Shape in = nchw ? Shape.of(-1, 4, 6, 6) : Shape.of(-1, 6, 6, 4);
    Shape filter = Shape.of(3, 3, rnd.nextBoolean() ? 4 : 2, 6);
    Attrs conv = Attrs.builder().set("strides", strides).set("padding", padding).set("data_format", format).build();
    Attrs pool = Attrs.builder().set("ksize", new int[] {2, 2}).set("strides", strides).set("padding", padding)
        .set("data_format", format).build();
    int[] out = ConvGeometry.convolution(conv, in.dims(), filter.dims()).outputDims();
    int[] pooled = ConvGeometry.pooling(pool, in.dims()).outputDims();
    return switch (type) {
      case "Conv2D" -> b(type).addInput(placeholder(d, in)).addInput(placeholder(d, filter)).setAttrs(conv).build();
      case "FusedConv2D" -> {
        OperationBuilder f = b(type).addInput(placeholder(d, in)).addInput(placeholder(d, filter));
        Shape channel = Shape.of(6);
        for (int i = 0, extra = List.of(0, 1, 4).get(rnd.nextInt(3)); i < extra; i++) {
          f.addInput(placeholder(d, channel));
        }
        yield f.setAttrs(conv).setAttr("activation", List.of("none", "relu", "tanh").get(rnd.nextInt(3)))
            .setAttr("epsilon", 1e-3 * (1 + rnd.nextInt(9))).build();
      }
      case "Conv2DBackpropInput" -> b(type).addInput(placeholder(d, filter)).addInput(placeholder(d, Shape.of(out)))
          .setAttrs(conv).setAttr("input_sizes", in).build();
      case "Conv2DBackpropFilter" -> b(type).addInput(placeholder(d, in)).addInput(placeholder(d, Shape.of(out)))
          .setAttrs(conv).setAttr("filter_sizes", filter).build();
      case "MaxPool", "AvgPool" -> b(type).addInput(placeholder(d, in)).setAttrs(pool).build();
      case "MaxPoolGrad" -> b(type).addInput(placeholder(d, in)).addInput(placeholder(d, Shape.of(pooled)))
          .addInput(placeholder(d, Shape.of(pooled))).setAttrs(pool).build();
      case "AvgPoolGrad" -> b(type).addInput(placeholder(d, Shape.of(pooled))).setAttrs(pool)
          .setAttr("orig_input_shape", in).build();
      default -> b(type).addInput(placeholder(d, in)).addInput(placeholder(d, Shape.of(in.dim(nchw ? 1 : 3))))
          .setAttr("data_format", format).build();
    };
  }

  /** A Fused node over one or two float inputs: body r = tanh(p0 * p1 + 0.5), and p1 itself. */
  private Operation fused() {
    DType d = rnd.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
    Output x = pick(o -> o.dtype() == d, () -> placeholder(d, Shape.of(2, 3)));
    Output y = pick(o -> o.dtype() == d && Shape.broadcast(o.shape(), x.shape()) != null, () -> x);
    Graph body = new Graph();
    Ops tf = Ops.create(body);
    Output p0 = body.opBuilder("Parameter", "p0").setAttr("dtype", d).setAttr("shape", x.shape()).build().output(0);
    Output p1 = body.opBuilder("Parameter", "p1").setAttr("dtype", d).setAttr("shape", y.shape()).build().output(0);
    Output r = tf.tanh(tf.add(tf.mul(p0, p1), tf.constant(0.5, d)));
    return b("Fused").addInput(x).addInput(y)
        .addSubgraph(new Subgraph(body, List.of(p0, p1), List.of(r, p1))).build();
  }

  /** Element-wise ops of the built-ins, and a best guess for op types this class does not know. */
  private Operation generic(String type) {
    OpDef def = OpRegistry.get(type);
    for (int attempt = 0; attempt < 8; attempt++) {
      Output x = switch (attempt % 4) {
        case 0 -> pick(o -> o.dtype() == DType.FLOAT32, () -> placeholder(DType.FLOAT32, Shape.of(2, 3)));
        case 1 -> pick(o -> o.dtype().isInteger(), () -> placeholder(DType.INT32, Shape.of(-1)));
        case 2 -> pick(o -> o.dtype() == DType.BOOL, () -> placeholder(DType.BOOL, Shape.of(2)));
        default -> any();
      };
      int n = Math.max(def.minInputs(), Math.min(def.maxInputs(), 1 + rnd.nextInt(3)));
      OperationBuilder nb = b(type);
      for (int i = 0; i < n; i++) {
        nb.addInput(x);
      }
      try {
        return nb.build();
      } catch (IllegalArgumentException e) {
        // try another input kind
      }
    }
    return null;
  }

  /**
   * Rebuilds an existing node (same type, inputs and attrs, so inference agrees) with extras: device,
   * control input, subgraphs. Extra attributes of every kind go on an {@link AnnotatedOp} node over the
   * same inputs, since a built-in op takes only the attributes it declares.
   */
  private void decorate() {
    List<Operation> ops = graph.operations();
    Operation src = ops.get(rnd.nextInt(ops.size()));
    if (src.type().equals("Variable")) {
      return;
    }
    OperationBuilder nb = graph.opBuilder(src.type(), src.name() + "/copy" + rnd.nextInt(100_000))
        .addInputs(src.inputs()).setAttrs(src.attrs()).setDevice(DEVICES.get(rnd.nextInt(DEVICES.size())));
    OperationBuilder notes = graph.opBuilder(AnnotatedOp.TYPE, src.name() + "/notes" + rnd.nextInt(100_000))
        .addInputs(src.inputs());
    int extras = rnd.nextInt(3);
    for (int i = extras; i > 0; i--) {
      notes.setAttr("x_" + (char) ('a' + rnd.nextInt(26)) + i, extraValue());
    }
    if (rnd.nextBoolean()) {
      nb.addControlInput(ops.get(rnd.nextInt(ops.size())));
    }
    if (depth < 2 && rnd.nextInt(3) > 0) {
      for (int i = 1 + rnd.nextInt(2); i > 0; i--) {
        nb.addSubgraph(subgraph());
      }
    }
    try {
      Operation op = graph.atomically(nb::build);
      pool.addAll(op.outputs());
      if (extras > 0) {
        graph.atomically(notes::build);
      }
    } catch (IllegalArgumentException e) {
      // a name clash with an earlier copy: skip
    }
  }

  private Subgraph subgraph() {
    Graph body = new Graph();
    RandomGraphs inner = new RandomGraphs(rnd, body, depth + 1);
    List<Output> params = new ArrayList<>();
    for (int i = rnd.nextInt(3); i > 0; i--) {
      Output p = body.opBuilder("Parameter", "arg" + i).setAttr("dtype", dtype()).setAttr("shape", shape(true))
          .build().output(0);
      params.add(p);
      inner.pool.add(p);
    }
    inner.fill(params.size() + 1 + rnd.nextInt(5));
    List<Output> results = new ArrayList<>();
    List<Output> all = body.operations().stream().flatMap(o -> o.outputs().stream()).toList();
    for (int i = rnd.nextInt(3); i > 0 && !all.isEmpty(); i--) {
      results.add(all.get(rnd.nextInt(all.size())));
    }
    return new Subgraph(body, params, results);
  }

  // ---------------------------------------------------------------- values

  private Output pick(Predicate<Output> ok, java.util.function.Supplier<Output> otherwise) {
    List<Output> fits = pool.stream().filter(ok).toList();
    if (fits.isEmpty() || rnd.nextInt(5) == 0) {
      return otherwise.get();
    }
    return fits.get(rnd.nextInt(fits.size()));
  }

  private Output any() {
    return pick(o -> true, () -> placeholder(dtype(), shape(true)));
  }

  private Output known() {
    return pick(o -> o.shape().hasKnownRank(), () -> placeholder(dtype(), shape(false)));
  }

  private Output numeric() {
    return pick(o -> o.dtype().isNumeric(), () -> placeholder(DType.FLOAT64, shape(true)));
  }

  private static boolean sameCount(Output a, Output b) {
    return a.shape().numElements() >= 0 && a.shape().numElements() == b.shape().numElements();
  }

  private Output placeholder(DType d, Shape s) {
    Output p = Ops.create(graph).opBuilder("Placeholder").setAttr("dtype", d).setAttr("shape", s).build().output(0);
    pool.add(p);
    return p;
  }

  private Output constant(Tensor t) {
    Output c = Ops.create(graph).constant(t);
    pool.add(c);
    return c;
  }

  private Output scalar(DType d) {
    return constant(randomTensor(d, Shape.scalar()));
  }

  private int axis(int rank) {
    return rnd.nextInt(2 * rank) - rank;
  }

  private DType dtype() {
    return DTYPES[rnd.nextInt(DTYPES.length)];
  }

  /** A random shape: rank 0-3, dims 0-4, with unknown dims and unknown rank when allowed. */
  private Shape shape(boolean allowUnknown) {
    if (allowUnknown && rnd.nextInt(8) == 0) {
      return Shape.unknown();
    }
    int[] d = new int[rnd.nextInt(4)];
    for (int i = 0; i < d.length; i++) {
      d[i] = allowUnknown && rnd.nextInt(4) == 0 ? -1 : rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(4);
    }
    return Shape.of(d);
  }

  private Tensor tensor() {
    Shape s = rnd.nextInt(5) == 0 ? Shape.of(3 + rnd.nextInt(4), 5 + rnd.nextInt(5)) : shape(false);
    return randomTensor(dtype(), s);
  }

  /** Random values, floats drawn from all bit patterns (NaN, infinities, -0, subnormals). */
  private Tensor randomTensor(DType d, Shape s) {
    int n = (int) s.numElements();
    Object data = HostBuffers.allocate(d, n);
    for (int i = 0; i < n; i++) {
      switch (data) {
        case float[] a -> a[i] = rnd.nextBoolean() ? Float.intBitsToFloat(rnd.nextInt()) : (float) rnd.nextGaussian();
        case double[] a -> a[i] = rnd.nextBoolean() ? Double.longBitsToDouble(rnd.nextLong()) : rnd.nextGaussian();
        case int[] a -> a[i] = rnd.nextInt();
        case long[] a -> a[i] = rnd.nextLong();
        case boolean[] a -> a[i] = rnd.nextBoolean();
        default -> throw new AssertionError();
      }
    }
    // A narrow dtype's values are those of the narrow type: rounded or wrapped into it.
    Narrowing.narrowInPlace(d, data, 0, n);
    return HostBuffers.adopt(d, s, data);
  }

  private static final double[] SPECIAL_DOUBLES = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY, Double.MIN_VALUE, Double.MAX_VALUE, 0.1, 1e-300, 1e21, 123456789.125};

  private Object extraValue() {
    return switch (rnd.nextInt(9)) {
      case 0 -> List.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, rnd.nextLong()).get(rnd.nextInt(5));
      case 1 -> rnd.nextBoolean() ? SPECIAL_DOUBLES[rnd.nextInt(SPECIAL_DOUBLES.length)]
          : Double.longBitsToDouble(rnd.nextLong());
      case 2 -> rnd.nextBoolean();
      case 3 -> randomString();
      case 4 -> dtype();
      case 5 -> shape(true);
      case 6 -> {
        List<Long> xs = new ArrayList<>();
        for (int i = rnd.nextInt(4); i > 0; i--) {
          xs.add(rnd.nextLong() >> rnd.nextInt(64));
        }
        yield xs;
      }
      default -> tensor();
    };
  }

  private String randomString() {
    String alphabet = "ab Z09\"\\\n\t\r\u0001\u007f/%{}[]<>:,=é€\ud83d\ude00";
    StringBuilder sb = new StringBuilder();
    for (int i = rnd.nextInt(8); i > 0; i--) {
      sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
