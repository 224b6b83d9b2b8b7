package dev.kiln.graph;

import static dev.kiln.graph.AttrDef.optional;
import static dev.kiln.graph.AttrDef.required;
import static dev.kiln.graph.Infer.FLOAT;
import static dev.kiln.graph.Infer.one;
import static dev.kiln.graph.Infer.sameDType;

import dev.kiln.graph.AttrDef.Constraint;
import java.util.List;
import java.util.Set;

/**
 * The convolution, pooling and bias op types (TensorFlow's names and conventions: NHWC or NCHW
 * images, HWIO filters): Conv2D with its two backprops (grouped when the input depth is a multiple of
 * the filter's), MaxPool/AvgPool with their gradients, BiasAdd. Their gradients are in
 * {@link ConvGradients}; the spatial arithmetic in {@link ConvGeometry}. FusedConv2D is what the
 * optimizer makes of a convolution followed by its bias add and activation; it has no gradient.
 */
final class ConvOps {
  private ConvOps() {}

  private static final Set<OpTrait> NONE = Set.of();

  static final AttrDef DATA_FORMAT = optional("data_format", AttrType.STRING, "NHWC")
      .constrained(Constraint.oneOf("NHWC", "NCHW"));
  private static final AttrDef STRIDES = required("strides", AttrType.INT_LIST);
  private static final AttrDef CONV_PADDING = required("padding", AttrType.STRING)
      .constrained(Constraint.oneOf("SAME", "VALID", "EXPLICIT"));
  private static final AttrDef EXPLICIT = optional("explicit_paddings", AttrType.INT_LIST, new int[0]);
  private static final AttrDef DILATIONS = optional("dilations", AttrType.INT_LIST, new int[] {1, 1, 1, 1});
  private static final AttrDef POOL_PADDING = required("padding", AttrType.STRING)
      .constrained(Constraint.oneOf("SAME", "VALID"));
  private static final AttrDef KSIZE = required("ksize", AttrType.INT_LIST);

  static void define(List<OpDef> defs) {
    defs.add(new OpSpec("Conv2D", 2, 2, NONE,
        AttrSchema.of(STRIDES, CONV_PADDING, EXPLICIT, DILATIONS, DATA_FORMAT), ConvOps::conv2d));
    defs.add(new OpSpec("Conv2DBackpropInput", 2, 2, NONE,
        AttrSchema.of(required("input_sizes", AttrType.SHAPE), STRIDES, CONV_PADDING, EXPLICIT, DILATIONS, DATA_FORMAT),
        ConvOps::backpropInput));
    defs.add(new OpSpec("Conv2DBackpropFilter", 2, 2, NONE,
        AttrSchema.of(required("filter_sizes", AttrType.SHAPE), STRIDES, CONV_PADDING, EXPLICIT, DILATIONS, DATA_FORMAT),
        ConvOps::backpropFilter));
    AttrSchema pool = AttrSchema.of(KSIZE, STRIDES, POOL_PADDING, DATA_FORMAT);
    defs.add(new OpSpec("MaxPool", 1, 1, NONE, pool, ConvOps::pool));
    defs.add(new OpSpec("AvgPool", 1, 1, NONE, pool, ConvOps::pool));
    defs.add(new OpSpec("MaxPoolGrad", 3, 3, NONE, pool, ConvOps::maxPoolGrad));
    defs.add(new OpSpec("AvgPoolGrad", 1, 1, NONE,
        AttrSchema.of(required("orig_input_shape", AttrType.SHAPE), KSIZE, STRIDES, POOL_PADDING, DATA_FORMAT),
        ConvOps::avgPoolGrad));
    defs.add(new OpSpec("BiasAdd", 2, 2, NONE, AttrSchema.of(DATA_FORMAT), ConvOps::biasAdd));
    defs.add(new OpSpec("FusedConv2D", 2, 6, NONE, AttrSchema.of(STRIDES, CONV_PADDING, EXPLICIT, DILATIONS, DATA_FORMAT,
        optional("activation", AttrType.STRING, "none").constrained(Constraint.oneOf(FusedOps.ACTIVATIONS.toArray())),
        optional("epsilon", AttrType.FLOAT, 1e-3).constrained(new Constraint("a finite number > 0",
            v -> (Double) v > 0 && Double.isFinite((Double) v)))),
        ConvOps::fusedConv2d));
  }

  /** Input {@code i}'s dims, requiring rank 4 (-1 for unknown dims; all -1 for an unknown rank). */
  private static int[] rank4(OpContext c, int i, String what) {
    Shape s = c.shape(i);
    if (!s.hasKnownRank()) {
      return new int[] {-1, -1, -1, -1};
    }
    if (s.rank() != 4) {
      throw c.error("%s (input %d) must be rank 4, got %s", what, i, s);
    }
    return s.dims();
  }

  private static String format(OpContext c) {
    return ConvGeometry.nchw(c.attrs()) ? "[N,C,H,W]" : "[N,H,W,C]";
  }

  /** The geometry, with a failure reported against the node. */
  private static ConvGeometry geometry(OpContext c, int[] in, int[] filter) {
    try {
      return ConvGeometry.convolution(c.attrs(), in, filter);
    } catch (IllegalArgumentException e) {
      throw c.error("%s (input %s, filter %s)", e.getMessage(), Shape.of(in), Shape.of(filter));
    }
  }

  private static List<TensorType> conv2d(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    int[] in = rank4(c, 0, "input " + format(c));
    int[] filter = rank4(c, 1, "filter [kh,kw,in,out]");
    return one(d, Shape.of(geometry(c, in, filter).outputDims()));
  }

  /**
   * {@code activation(conv2d(input, filter) + bias)} or {@code activation(batchNorm(conv2d(input,
   * filter)))}, the optimizer's fusion of a convolution with its bias add or inference batch
   * normalization and its activation (Grappler's {@code _FusedConv2D}): inputs input, filter and then
   * nothing, a bias, or batch normalization's scale, offset, mean and variance, each of one entry per
   * output channel; Conv2D's attributes, activation (none, relu, sigmoid, tanh) and the batch
   * normalization's epsilon.
   */
  private static List<TensorType> fusedConv2d(OpContext c) {
    List<TensorType> conv = conv2d(c);
    if (c.numInputs() == 4 || c.numInputs() == 5) {
      throw c.error("takes a bias (3 inputs) or batch normalization's scale, offset, mean and variance (6 inputs),"
          + " got %d inputs", c.numInputs());
    }
    String[] names = c.numInputs() == 3 ? new String[] {"bias"} : new String[] {"scale", "offset", "mean", "variance"};
    TensorType t = conv.get(0);
    int channels = t.shape().hasKnownRank() ? t.shape().dim(ConvGeometry.nchw(c.attrs()) ? 1 : 3) : -1;
    for (int i = 2; i < c.numInputs(); i++) {
      if (c.dtype(i) != t.dtype()) {
        throw c.error("dtypes differ: %s vs %s", t.dtype().shortName(), c.dtype(i).shortName());
      }
      Shape b = c.shape(i);
      if (b.hasKnownRank() && (b.rank() != 1 || (channels >= 0 && b.dim(0) >= 0 && b.dim(0) != channels))) {
        throw c.error("%s must be [%s], one entry per output channel, got %s", names[i - 2], channels < 0 ? "?" : channels, b);
      }
    }
    return conv;
  }

  /** Inputs (filter, out_backprop); the input's shape is the input_sizes attribute, its batch from out_backprop. */
  private static List<TensorType> backpropInput(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    int[] filter = rank4(c, 0, "filter [kh,kw,in,out]");
    int[] dy = rank4(c, 1, "out_backprop " + format(c));
    int[] in = sizes(c, "input_sizes");
    if (in[0] < 0) {
      in[0] = dy[0];
    }
    checkBackprop(c, geometry(c, in, filter), dy, "out_backprop");
    return one(d, Shape.of(in));
  }

  /** Inputs (input, out_backprop); the result has the filter_sizes attribute's shape. */
  private static List<TensorType> backpropFilter(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    int[] in = rank4(c, 0, "input " + format(c));
    int[] dy = rank4(c, 1, "out_backprop " + format(c));
    int[] filter = sizes(c, "filter_sizes");
    for (int x : filter) {
      if (x < 0) {
        throw c.error("attribute 'filter_sizes' must be fully defined, got %s", Shape.of(filter));
      }
    }
    checkBackprop(c, geometry(c, in, filter), dy, "out_backprop");
    return one(d, Shape.of(filter));
  }

  private static int[] sizes(OpContext c, String attr) {
    Shape s = c.attrs().getShape(attr);
    if (!s.hasKnownRank() || s.rank() != 4) {
      throw c.error("attribute '%s' must be a rank-4 shape, got %s", attr, s);
    }
    return s.dims();
  }

  /** The forward output the geometry gives must agree with the gradient's shape where both are known. */
  private static void checkBackprop(OpContext c, ConvGeometry g, int[] dy, String what) {
    int[] expected = g.outputDims();
    for (int i = 0; i < 4; i++) {
      if (expected[i] >= 0 && dy[i] >= 0 && expected[i] != dy[i]) {
        throw c.error("%s has shape %s, but the forward output of input %s is %s", what, Shape.of(dy),
            Shape.of(g.inputDims()), Shape.of(expected));
      }
    }
  }

  private static ConvGeometry poolGeometry(OpContext c, int[] in) {
    try {
      return ConvGeometry.pooling(c.attrs(), in);
    } catch (IllegalArgumentException e) {
      throw c.error("%s (input %s)", e.getMessage(), Shape.of(in));
    }
  }

  private static List<TensorType> pool(OpContext c) {
    DType d = Infer.dtypeIn(c, 0, FLOAT);
    return one(d, Shape.of(poolGeometry(c, rank4(c, 0, "input " + format(c))).outputDims()));
  }

  /** Inputs (orig_input, orig_output, grad), as TensorFlow's. */
  private static List<TensorType> maxPoolGrad(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    int[] in = rank4(c, 0, "orig_input " + format(c));
    ConvGeometry g = poolGeometry(c, in);
    checkBackprop(c, g, rank4(c, 1, "orig_output " + format(c)), "orig_output");
    checkBackprop(c, g, rank4(c, 2, "grad " + format(c)), "grad");
    return one(d, Shape.of(in));
  }

  /** Input grad; the result has the orig_input_shape attribute's shape (its batch from grad). */
  private static List<TensorType> avgPoolGrad(OpContext c) {
    DType d = Infer.dtypeIn(c, 0, FLOAT);
    int[] dy = rank4(c, 0, "grad " + format(c));
    int[] in = sizes(c, "orig_input_shape");
    if (in[0] < 0) {
      in[0] = dy[0];
    }
    checkBackprop(c, poolGeometry(c, in), dy, "grad");
    return one(d, Shape.of(in));
  }

  private static List<TensorType> biasAdd(OpContext c) {
    DType d = sameDType(c, 0, FLOAT);
    Shape v = c.shape(0);
    Shape b = c.shape(1);
    boolean nchw = ConvGeometry.nchw(c.attrs());
    if (b.hasKnownRank() && b.rank() != 1) {
      throw c.error("bias must be rank 1, got %s", b);
    }
    if (!v.hasKnownRank()) {
      return one(d, v);
    }
    int min = nchw ? 3 : 1;
    if (v.rank() < min) {
      throw c.error("value must have rank >= %d%s, got %s", min, nchw ? " for NCHW" : "", v);
    }
    int channels = v.dim(nchw ? 1 : v.rank() - 1);
    int bias = b.hasKnownRank() ? b.dim(0) : -1;
    if (channels >= 0 && bias >= 0 && channels != bias) {
      throw c.error("bias has %d entries, but value %s has %d channels (%s)", bias, v, channels,
          nchw ? "dimension 1, NCHW" : "its last dimension");
    }
    return one(d, v);
  }
}
