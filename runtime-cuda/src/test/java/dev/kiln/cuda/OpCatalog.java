package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One graph per op the CUDA runtime has a kernel for (and a few Fused bodies): placeholders of fixed
 * shapes feeding one node. Used by the codegen compile test (no GPU) and the execution test (GPU:
 * each agrees with the CPU runtime within {@link OpCase#tolerance}).
 */
final class OpCatalog {
  /**
   * @param positive inputs must be positive (log, sqrt, pow of floats)
   * @param tolerance max |gpu - cpu| / max(1, |cpu|) allowed
   */
  /**
   * @param reference what the CPU runtime computes to compare with: the node's outputs, or for the
   *     fused op types (which have no CPU kernel) the same computation unfused, in the same graph
   */
  record OpCase(String label, Graph graph, Operation node, List<Output> inputs, List<Output> reference, boolean positive,
      double tolerance) {
    @Override
    public String toString() {
      return label;
    }
  }

  private final List<OpCase> cases = new ArrayList<>();
  private final DType d;

  private OpCatalog(DType d) {
    this.d = d;
  }

  /** Float tolerance: transcendental functions differ by a few ulps between Java and CUDA. */
  private double tol() {
    return d == DType.FLOAT32 ? 1e-5 : 1e-12;
  }

  static List<OpCase> cases(DType d) {
    OpCatalog c = new OpCatalog(d);
    c.build();
    return c.cases;
  }

  private void add(String label, int[][] shapes, DType[] dtypes, boolean positive, double tol, Function<Env, Output> body) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    List<Output> ins = new ArrayList<>();
    for (int i = 0; i < shapes.length; i++) {
      ins.add(tf.placeholder("in" + i, dtypes[i], Shape.of(shapes[i])));
    }
    Output out = body.apply(new Env(tf.withName("node"), ins));
    List<Output> reference = out.op().outputs();
    if (out.op().type().equals("Fused")) {
      reference = pendingReference.apply(tf, ins);
    } else if (out.op().type().equals("FusedMatMul")) {
      reference = List.of(tf.relu(tf.add(tf.matmul(ins.get(0), ins.get(1)), ins.get(2))));
    } else if (out.op().type().equals("Gemm")) {
      var attrs = out.op().attrs();
      Output product = tf.matmul(ins.get(0), ins.get(1), attrs.getBool("transpose_a", false), attrs.getBool("transpose_b", false));
      reference = List.of(tf.add(tf.mul(tf.constant(((Number) attrs.find("alpha").orElseThrow()).doubleValue(), d), product),
          tf.mul(tf.constant(((Number) attrs.find("beta").orElseThrow()).doubleValue(), d), ins.get(2))));
    }
    cases.add(new OpCase(label + " " + d.shortName(), g, out.op(), ins, reference, positive, tol));
  }

  record Env(Ops tf, List<Output> in) {
    Output x() {
      return in.get(0);
    }

    Output y() {
      return in.get(1);
    }
  }

  private static int[][] shapes(int[]... s) {
    return s;
  }

  private DType[] same(int n) {
    DType[] t = new DType[n];
    java.util.Arrays.fill(t, d);
    return t;
  }

  private void build() {
    int[] m = {7, 33};
    int[] row = {33};
    // Unary.
    for (String op : List.of("Neg", "Square", "Abs", "Sign", "Relu", "ZerosLike", "OnesLike", "Exp", "Sin", "Cos",
        "Sigmoid", "Tanh", "Reciprocal")) {
      add(op, shapes(m), same(1), op.equals("Reciprocal"), tol(), e -> e.tf().opBuilder(op).addInput(e.x()).build().output(0));
    }
    for (String op : List.of("Sqrt", "Rsqrt", "Log")) {
      add(op, shapes(m), same(1), true, tol(), e -> e.tf().opBuilder(op).addInput(e.x()).build().output(0));
    }
    // Binary with broadcasting: [7,33] op [33], [7,1] op [1,33], scalar op [7,33].
    for (String op : List.of("Add", "Sub", "Mul", "Div", "Maximum", "Minimum")) {
      add(op + " row", shapes(m, row), same(2), op.equals("Div"), tol(), e -> e.tf().opBuilder(op).addInput(e.x()).addInput(e.y()).build().output(0));
      add(op + " outer", shapes(new int[] {7, 1}, new int[] {1, 33}), same(2), op.equals("Div"), tol(),
          e -> e.tf().opBuilder(op).addInput(e.x()).addInput(e.y()).build().output(0));
      add(op + " scalar", shapes(new int[] {}, m), same(2), op.equals("Div"), tol(),
          e -> e.tf().opBuilder(op).addInput(e.x()).addInput(e.y()).build().output(0));
    }
    add("Pow", shapes(m, row), same(2), true, tol() * 10, e -> e.tf().pow(e.x(), e.y()));
    // Elementwise ops defined by their expansion into primitives: one generated body each.
    List<java.util.Map.Entry<String, java.util.function.BiFunction<Ops, Output, Output>>> composites = List.of(
        java.util.Map.entry("Erf", Ops::erf), java.util.Map.entry("Erfc", Ops::erfc),
        java.util.Map.entry("Softplus", Ops::softplus), java.util.Map.entry("Elu", Ops::elu),
        java.util.Map.entry("Selu", Ops::selu), java.util.Map.entry("LeakyRelu", (tf, x) -> tf.leakyRelu(x, 0.1)),
        java.util.Map.entry("Log1p", Ops::log1p), java.util.Map.entry("Expm1", Ops::expm1),
        java.util.Map.entry("Floor", Ops::floor), java.util.Map.entry("Ceil", Ops::ceil),
        java.util.Map.entry("Round", Ops::round),
        java.util.Map.entry("Atan", Ops::atan), java.util.Map.entry("Tan", Ops::tan),
        java.util.Map.entry("Clip", (tf, x) -> tf.clip(x, -0.25, 0.5)));
    for (var c : composites) {
      add(c.getKey(), shapes(m), same(1), false, tol() * 10, e -> c.getValue().apply(e.tf(), e.x()));
    }
    add("Mod", shapes(m, row), same(2), false, tol() * 10, e -> e.tf().mod(e.x(), e.y()));
    add("FloorDiv", shapes(m, row), same(2), false, 0, e -> e.tf().floorDiv(e.x(), e.y()));
    add("TruncateMod", shapes(m, row), same(2), false, 0, e -> e.tf().truncateMod(e.x(), e.y()));
    for (String op : List.of("Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual")) {
      add(op, shapes(m, row), same(2), false, 0, e -> e.tf().opBuilder(op).addInput(e.x()).addInput(e.y()).build().output(0));
    }
    DType[] bools = {DType.BOOL, DType.BOOL};
    add("LogicalAnd", shapes(m, row), bools, false, 0, e -> e.tf().logicalAnd(e.x(), e.y()));
    add("LogicalOr", shapes(m, row), bools, false, 0, e -> e.tf().logicalOr(e.x(), e.y()));
    add("LogicalNot", shapes(m), new DType[] {DType.BOOL}, false, 0, e -> e.tf().logicalNot(e.x()));
    add("Select", shapes(m, m, row), new DType[] {DType.BOOL, d, d}, false, 0, e -> e.tf().select(e.in().get(0), e.in().get(1), e.in().get(2)));
    add("AddN", shapes(m, m, m), same(3), false, tol(), e -> e.tf().addN(e.in()));
    add("Fill", shapes(new int[] {}), same(1), false, 0, e -> e.tf().fill(Shape.of(5, 9), e.x()));
    // The device keeps no narrow dtype: casts to f16, bf16, i8, u8 and i16 run on the host.
    for (DType to : java.util.Arrays.stream(DType.values()).filter(t -> !t.isNarrow()).toList()) {
      add("Cast to " + to.shortName(), shapes(m), same(1), false, 0, e -> e.tf().cast(e.x(), to));
    }
    // Integer arithmetic (truncating division, integer power).
    for (DType it : List.of(DType.INT32, DType.INT64)) {
      DType[] two = {it, it};
      add("Add " + it.shortName(), shapes(m, row), two, false, 0, e -> e.tf().add(e.x(), e.y()));
      add("Div " + it.shortName(), shapes(m, row), two, true, 0, e -> e.tf().div(e.x(), e.y()));
      add("Maximum " + it.shortName(), shapes(m, row), two, false, 0, e -> e.tf().maximum(e.x(), e.y()));
      add("Abs " + it.shortName(), shapes(m), new DType[] {it}, false, 0, e -> e.tf().abs(e.x()));
      add("Sum " + it.shortName(), shapes(m), new DType[] {it}, false, 0, e -> e.tf().reduceSum(e.x(), new int[] {1}, false));
      add("Cast " + it.shortName() + " to " + d.shortName(), shapes(m), new DType[] {it}, false, 0, e -> e.tf().cast(e.x(), d));
    }
    // Reductions.
    int[] cube = {5, 6, 7};
    add("Sum all", shapes(cube), same(1), false, tol() * 10, e -> e.tf().reduceSum(e.x()));
    add("Sum axis 1 keep", shapes(cube), same(1), false, tol() * 10, e -> e.tf().reduceSum(e.x(), new int[] {1}, true));
    add("Sum axes 0,2", shapes(cube), same(1), false, tol() * 10, e -> e.tf().reduceSum(e.x(), new int[] {0, 2}, false));
    add("Mean axis -1", shapes(cube), same(1), false, tol() * 10, e -> e.tf().reduceMean(e.x(), new int[] {-1}, false));
    add("Max axis 0", shapes(cube), same(1), false, 0, e -> e.tf().reduceMax(e.x(), new int[] {0}, false));
    add("Min all", shapes(cube), same(1), false, 0, e -> e.tf().reduceMin(e.x(), new int[] {0, 1, 2}, false));
    add("Prod axis 2", shapes(cube), same(1), false, tol() * 10, e -> e.tf().reduceProd(e.x(), new int[] {2}, false));
    add("Sum 1000x300 axis 0", shapes(new int[] {1000, 300}), same(1), false, tol() * 100, e -> e.tf().reduceSum(e.x(), new int[] {0}, false));
    add("ReduceSumLike", shapes(cube, new int[] {6, 1}), same(2), false, tol() * 10, e -> e.tf().reduceSumLike(e.x(), e.y()));
    // Normalizations and indexing.
    add("Softmax", shapes(new int[] {9, 300}), same(1), false, tol(), e -> e.tf().softmax(e.x()));
    add("Softmax axis 0", shapes(cube), same(1), false, tol(), e -> e.tf().softmax(e.x(), 0));
    add("LogSoftmax", shapes(new int[] {9, 300}), same(1), false, tol() * 10, e -> e.tf().logSoftmax(e.x()));
    add("ArgMax", shapes(cube), same(1), false, 0, e -> e.tf().argMax(e.x(), 1));
    add("OneHot", shapes(new int[] {11}), new DType[] {DType.INT32}, false, 0, e -> e.tf().oneHot(e.x(), 10, d));
    add("Transpose", shapes(cube), same(1), false, 0, e -> e.tf().transpose(e.x(), 2, 0, 1));
    add("Slice", shapes(cube), same(1), false, 0, e -> e.tf().slice(e.x(), new int[] {1, 0, 2}, new int[] {3, -1, 4}));
    add("Pad", shapes(new int[] {3, 4}), same(1), false, 0, e -> e.tf().pad(e.x(), 1, 2, 0, 3));
    add("Concat axis 1", shapes(new int[] {3, 2}, new int[] {3, 5}, new int[] {3, 1}), same(3), false, 0,
        e -> e.tf().concat(e.in(), 1));
    add("Concat axis 0", shapes(new int[] {2, 4}, new int[] {1, 4}), same(2), false, 0, e -> e.tf().concat(e.in(), 0));
    // Random draws (compared by moments, not values).
    add("RandomUniform", shapes(), same(0), false, 0, e -> e.tf().randomUniform(Shape.of(100, 100), d, 7));
    add("RandomNormal", shapes(), same(0), false, 0, e -> e.tf().randomNormal(Shape.of(100, 100), d, 7));
    // Matrix products.
    add("MatMul", shapes(new int[] {37, 50}, new int[] {50, 29}), same(2), false, tol() * 100, e -> e.tf().matmul(e.x(), e.y()));
    add("MatMul ta tb", shapes(new int[] {50, 37}, new int[] {29, 50}), same(2), false, tol() * 100,
        e -> e.tf().matmul(e.x(), e.y(), true, true));
    add("FusedMatMul relu", shapes(new int[] {37, 50}, new int[] {50, 29}, new int[] {29}), same(3), false, tol() * 100,
        e -> e.tf().opBuilder("FusedMatMul").addInput(e.x()).addInput(e.y()).addInput(e.in().get(2))
            .setAttr("transpose_a", false).setAttr("transpose_b", false).setAttr("activation", "relu").build().output(0));
    add("Gemm ta (SGD update)", shapes(new int[] {50, 37}, new int[] {50, 29}, new int[] {37, 29}), same(3), false, tol() * 100,
        e -> e.tf().opBuilder("Gemm").addInput(e.x()).addInput(e.y()).addInput(e.in().get(2)).setAttr("transpose_a", true)
            .setAttr("transpose_b", false).setAttr("alpha", -0.25).setAttr("beta", 1.0).build().output(0));
    add("Gemm tb beta 0.5", shapes(new int[] {37, 50}, new int[] {29, 50}, new int[] {37, 29}), same(3), false, tol() * 100,
        e -> e.tf().opBuilder("Gemm").addInput(e.x()).addInput(e.y()).addInput(e.in().get(2)).setAttr("transpose_a", false)
            .setAttr("transpose_b", true).setAttr("alpha", 2.0).setAttr("beta", 0.5).build().output(0));
    convolutions();
    normalizations();
    arrays();
    // Fused bodies.
    add("Fused relu(x*w+b)", shapes(m, m, row), same(3), false, tol(), e -> fused(e, (tf, p) ->
        List.of(tf.relu(tf.add(tf.mul(p.get(0), p.get(1)), p.get(2))))));
    add("Fused sigmoid grad", shapes(m, m), same(2), false, tol(), e -> fused(e, (tf, p) -> {
      Output s = tf.sigmoid(p.get(0));
      return List.of(tf.mul(tf.mul(s, tf.sub(tf.constant(1.0, d), s)), p.get(1)));
    }));
    add("Fused two outputs", shapes(m, row), same(2), false, tol(), e -> fused(e, (tf, p) ->
        List.of(tf.add(tf.mul(p.get(0), p.get(1)), tf.constant(1.0, d)), tf.exp(p.get(1)))));
    add("Fused select cast", shapes(m, row), same(2), false, tol(), e -> fused(e, (tf, p) -> {
      Output gt = tf.greater(p.get(0), p.get(1));
      return List.of(tf.select(gt, p.get(0), tf.square(p.get(1))), tf.cast(gt, DType.INT32));
    }));
    // Fused bodies ending in reductions over trailing axes (one block per row of the space).
    add("Fused sum(exp(x)*y*s) axis -1", shapes(m, m, new int[] {}), same(3), false, tol() * 10, e -> fused(e, (tf, p) ->
        List.of(tf.reduceSum(tf.mul(tf.mul(tf.exp(p.get(0)), p.get(1)), p.get(2)), new int[] {-1}, false))));
    add("Fused mean square(x-y) all", shapes(m, row), same(2), false, tol() * 10, e -> fused(e, (tf, p) ->
        List.of(tf.reduceMean(tf.square(tf.sub(p.get(0), p.get(1)))))));
    add("Fused max axis 2 keep, x*y+1 and exp(y)", shapes(cube, new int[] {7}), same(2), false, tol(), e -> fused(e, (tf, p) -> {
      Output t = tf.add(tf.mul(p.get(0), p.get(1)), tf.constant(1.0, d));
      return List.of(tf.reduceMax(t, new int[] {2}, true), t, tf.exp(p.get(1)));
    }));
    add("Fused sum, min and relu over rows of 2500", shapes(new int[] {3, 2500}, new int[] {3, 2500}), same(2), false,
        tol() * 10, e -> fused(e, (tf, p) -> {
          Output t = tf.sub(p.get(0), p.get(1));
          return List.of(tf.relu(t), tf.reduceSum(tf.mul(t, t), new int[] {1}, false), tf.reduceMin(t, new int[] {1}, false));
        }));
    add("Fused mean axes 1,2 over [4,1,6]", shapes(new int[] {4, 1, 6}), same(1), false, tol() * 10, e -> fused(e, (tf, p) ->
        List.of(tf.reduceMean(tf.sigmoid(p.get(0)), new int[] {1, 2}, false))));
  }

  /** A node of {@code type} over all inputs with the convolution attributes {@code attrs} (name, value pairs). */
  private static Output node(Env e, String type, Object... attrs) {
    var b = e.tf().opBuilder(type);
    e.in().forEach(b::addInput);
    for (int i = 0; i < attrs.length; i += 2) {
      b.setAttr((String) attrs[i], attrs[i + 1]);
    }
    return b.build().output(0);
  }

  /** Convolutions, their gradients, pooling and bias: both layouts, strides, the three paddings, dilations, groups. */
  private void convolutions() {
    double conv = tol() * 100;
    int[] s2 = {2, 2};
    add("Conv2D SAME stride 2", shapes(new int[] {2, 9, 8, 4}, new int[] {3, 3, 4, 6}), same(2), false, conv,
        e -> e.tf().conv2d(e.x(), e.y(), s2, "SAME"));
    add("Conv2D NCHW VALID dilated", shapes(new int[] {2, 4, 9, 8}, new int[] {3, 2, 4, 5}), same(2), false, conv,
        e -> e.tf().conv2d(e.x(), e.y(), new int[] {1, 2}, "VALID", new int[] {2, 1}, new int[0], "NCHW"));
    add("Conv2D EXPLICIT grouped", shapes(new int[] {1, 7, 7, 4}, new int[] {2, 3, 2, 6}), same(2), false, conv,
        e -> e.tf().conv2d(e.x(), e.y(), new int[] {2, 1}, "EXPLICIT", new int[] {1, 1}, new int[] {1, 0, 2, 1}, "NHWC"));
    add("FusedConv2D bias relu", shapes(new int[] {2, 9, 8, 4}, new int[] {3, 3, 4, 6}, new int[] {6}), same(3), false, conv,
        e -> node(e, "FusedConv2D", "strides", s2, "padding", "SAME", "activation", "relu"));
    add("FusedConv2D NCHW batch norm tanh", shapes(new int[] {2, 4, 9, 8}, new int[] {3, 3, 4, 6}, new int[] {6},
        new int[] {6}, new int[] {6}, new int[] {6}), same(6), true, conv,
        e -> node(e, "FusedConv2D", "strides", new int[] {1, 1}, "padding", "SAME", "data_format", "NCHW",
            "activation", "tanh", "epsilon", 1e-3));
    add("Conv2DBackpropInput SAME stride 2", shapes(new int[] {3, 3, 4, 6}, new int[] {2, 5, 4, 6}), same(2), false, conv,
        e -> node(e, "Conv2DBackpropInput", "input_sizes", Shape.of(2, 9, 8, 4), "strides", s2, "padding", "SAME"));
    add("Conv2DBackpropInput NCHW VALID dilated grouped", shapes(new int[] {3, 2, 2, 6}, new int[] {2, 6, 5, 4}), same(2),
        false, conv, e -> node(e, "Conv2DBackpropInput", "input_sizes", Shape.of(2, 4, 9, 8), "strides", new int[] {1, 2},
            "dilations", new int[] {2, 1}, "padding", "VALID", "data_format", "NCHW"));
    add("Conv2DBackpropFilter SAME stride 2", shapes(new int[] {2, 9, 8, 4}, new int[] {2, 5, 4, 6}), same(2), false, conv,
        e -> node(e, "Conv2DBackpropFilter", "filter_sizes", Shape.of(3, 3, 4, 6), "strides", s2, "padding", "SAME"));
    add("Conv2DBackpropFilter EXPLICIT grouped", shapes(new int[] {1, 7, 7, 4}, new int[] {1, 4, 8, 6}), same(2), false, conv,
        e -> node(e, "Conv2DBackpropFilter", "filter_sizes", Shape.of(2, 3, 2, 6), "strides", new int[] {2, 1},
            "padding", "EXPLICIT", "explicit_paddings", new int[] {1, 0, 2, 1}));
    int[] k3 = {3, 3};
    add("MaxPool 3x3 SAME stride 2", shapes(new int[] {2, 9, 8, 5}), same(1), false, 0, e -> e.tf().maxPool(e.x(), k3, s2, "SAME"));
    add("AvgPool 3x3 SAME stride 2", shapes(new int[] {2, 9, 8, 5}), same(1), false, tol(), e -> e.tf().avgPool(e.x(), k3, s2, "SAME"));
    add("MaxPool NCHW VALID 2x2", shapes(new int[] {2, 5, 8, 6}), same(1), false, 0,
        e -> e.tf().maxPool(e.x(), s2, s2, "VALID", "NCHW"));
    add("AvgPool NCHW VALID 2x2", shapes(new int[] {2, 5, 8, 6}), same(1), false, tol(),
        e -> e.tf().avgPool(e.x(), s2, s2, "VALID", "NCHW"));
    add("MaxPoolGrad 3x3 SAME stride 2", shapes(new int[] {2, 9, 8, 5}, new int[] {2, 5, 4, 5}, new int[] {2, 5, 4, 5}),
        same(3), false, tol() * 10, e -> node(e, "MaxPoolGrad", "ksize", k3, "strides", s2, "padding", "SAME"));
    add("MaxPoolGrad NCHW VALID 2x2", shapes(new int[] {2, 5, 8, 6}, new int[] {2, 5, 4, 3}, new int[] {2, 5, 4, 3}),
        same(3), false, tol(), e -> node(e, "MaxPoolGrad", "ksize", s2, "strides", s2, "padding", "VALID", "data_format", "NCHW"));
    add("AvgPoolGrad 3x3 SAME stride 2", shapes(new int[] {2, 5, 4, 5}), same(1), false, tol() * 10,
        e -> node(e, "AvgPoolGrad", "orig_input_shape", Shape.of(2, 9, 8, 5), "ksize", k3, "strides", s2, "padding", "SAME"));
    add("BiasAdd", shapes(new int[] {2, 3, 4, 5}, new int[] {5}), same(2), false, tol(), e -> e.tf().biasAdd(e.x(), e.y()));
    add("BiasAdd NCHW", shapes(new int[] {2, 5, 3, 4}, new int[] {5}), same(2), false, tol(),
        e -> e.tf().biasAdd(e.x(), e.y(), "NCHW"));
  }

  /** Batch and layer normalization (training and inference) and their backward ops. */
  private void normalizations() {
    double norm = tol() * 10;
    int[] x = {6, 5, 7};
    int[] ch = {7};
    add("BatchNorm training", shapes(x, ch, ch, ch, ch), same(5), false, norm, e -> node(e, "BatchNorm", "epsilon", 1e-3));
    add("BatchNorm inference", shapes(x, ch, ch, ch, ch), same(5), true, norm,
        e -> node(e, "BatchNorm", "epsilon", 1e-3, "training", false));
    add("BatchNormGrad", shapes(x, x, ch, ch, ch), same(5), true, norm, e -> node(e, "BatchNormGrad", "epsilon", 1e-3));
    add("LayerNorm", shapes(new int[] {9, 300}, new int[] {300}, new int[] {300}), same(3), false, norm,
        e -> e.tf().layerNorm(e.x(), e.y(), e.in().get(2), 1e-5));
    add("LayerNormGrad", shapes(new int[] {9, 300}, new int[] {9, 300}, new int[] {300}), same(3), false, norm,
        e -> node(e, "LayerNormGrad", "epsilon", 1e-5));
  }

  /** Batched products with broadcast batch dimensions, and the simple array ops. */
  private void arrays() {
    add("BatchMatMul", shapes(new int[] {3, 7, 11}, new int[] {3, 11, 5}), same(2), false, tol() * 100,
        e -> e.tf().matmul(e.x(), e.y()));
    add("BatchMatMul broadcast ta tb", shapes(new int[] {2, 1, 11, 7}, new int[] {4, 5, 11}), same(2), false, tol() * 100,
        e -> e.tf().matmul(e.x(), e.y(), true, true));
    add("BatchMatMul shared b", shapes(new int[] {2, 3, 7, 11}, new int[] {11, 5}), same(2), false, tol() * 100,
        e -> e.tf().matmul(e.x(), e.y()));
    add("Tile", shapes(new int[] {2, 3}), same(1), false, 0, e -> e.tf().tile(e.x(), 3, 2));
    add("BroadcastTo", shapes(new int[] {3, 1}), same(1), false, 0, e -> e.tf().broadcastTo(e.x(), Shape.of(2, 3, 4)));
    add("Cumsum axis 1", shapes(new int[] {4, 9, 3}), same(1), false, 0, e -> e.tf().cumsum(e.x(), 1));
    add("Cumsum exclusive reverse", shapes(new int[] {4, 9}), same(1), false, 0, e -> e.tf().cumsum(e.x(), -1, true, true));
    add("Range", shapes(), same(0), false, 0, e -> e.tf().range(-1.5, 7, 0.75, d));
    add("Range int32", shapes(), same(0), false, 0, e -> e.tf().range(2, 30, 3, DType.INT32));
    add("ArgMin", shapes(new int[] {5, 6, 7}), same(1), false, 0, e -> e.tf().argMin(e.x(), 1));
    add("TopK", shapes(new int[] {5, 40}), same(1), false, 0, e -> node(e, "TopK", "k", 7L));
    add("TopK unsorted", shapes(new int[] {3, 2, 9}), same(1), false, 0, e -> node(e, "TopK", "k", 4L, "sorted", false));
    add("TopK int32 (ties)", shapes(new int[] {4, 30}), new DType[] {DType.INT32}, false, 0, e -> node(e, "TopK", "k", 9L));
  }

  private java.util.function.BiFunction<Ops, List<Output>, List<Output>> pendingReference;

  /**
   * A Fused node over all inputs whose body {@code body} builds from the parameters; the same
   * function applied to the real inputs is the CPU reference.
   */
  private Output fused(Env e, java.util.function.BiFunction<Ops, List<Output>, List<Output>> body) {
    pendingReference = body;
    Graph b = new Graph();
    Ops btf = Ops.create(b);
    List<Output> params = new ArrayList<>();
    for (int i = 0; i < e.in().size(); i++) {
      Output x = e.in().get(i);
      params.add(b.opBuilder("Parameter", "p" + i).setAttr("dtype", x.dtype()).setAttr("shape", x.shape()).build().output(0));
    }
    List<Output> results = body.apply(btf, params);
    var op = e.tf().opBuilder("Fused");
    e.in().forEach(op::addInput);
    return op.addSubgraph(new Subgraph(b, params, results)).build().output(0);
  }
}
