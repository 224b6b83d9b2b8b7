package dev.kiln.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The gradients of the convolution, pooling and bias ops ({@link ConvOps}), as TensorFlow builds
 * them: a convolution's input gradient is Conv2DBackpropInput, its filter gradient
 * Conv2DBackpropFilter, and each backprop's own gradient is made of the other two, so second
 * derivatives and transposed convolutions train too.
 */
final class ConvGradients {
  private ConvGradients() {}

  static void registerAll() {
    register("Conv2D", (tf, op, g) -> new Output[] {
        backpropInput(tf, op, op.input(1), g, inputSizes(op, op.input(0))),
        backpropFilter(tf, op, op.input(0), g, filterSizes(op, op.input(1)))});
    // Inputs (filter, out_backprop): out_backprop feeds a convolution of the result's gradient.
    register("Conv2DBackpropInput", (tf, op, g) -> new Output[] {
        backpropFilter(tf, op, g, op.input(1), filterSizes(op, op.input(0))),
        conv(tf, "Conv2D", op, g, op.input(0)).build().output(0)});
    // Inputs (input, out_backprop).
    register("Conv2DBackpropFilter", (tf, op, g) -> new Output[] {
        backpropInput(tf, op, g, op.input(1), inputSizes(op, op.input(0))),
        conv(tf, "Conv2D", op, op.input(0), g).build().output(0)});
    register("MaxPool", (tf, op, g) -> new Output[] {
        pool(tf, "MaxPoolGrad", op).addInput(op.input(0)).addInput(op.output(0)).addInput(g).build().output(0)});
    register("AvgPool", (tf, op, g) -> new Output[] {
        pool(tf, "AvgPoolGrad", op).addInput(g).setAttr("orig_input_shape", inputSizes(op, op.input(0)))
            .build().output(0)});
    // AvgPoolGrad is linear in its input, and its adjoint is the pooling itself.
    register("AvgPoolGrad", (tf, op, g) -> new Output[] {pool(tf, "AvgPool", op).addInput(g).build().output(0)});
    register("BiasAdd", (tf, op, g) -> new Output[] {g, biasGradient(tf, op, g)});
  }

  @FunctionalInterface
  private interface Simple {
    Output[] apply(Ops tf, Operation op, Output g);
  }

  private static void register(String type, Simple f) {
    OpRegistry.registerGradient(type, (tf, op, grads) -> {
      Optional<Output> g = grads.get(0);
      List<Optional<Output>> out = new ArrayList<>();
      if (g.isEmpty()) {
        for (int i = 0; i < op.numInputs(); i++) {
          out.add(Optional.empty());
        }
        return out;
      }
      for (Output o : f.apply(tf, op, g.get())) {
        out.add(Optional.ofNullable(o));
      }
      return out;
    });
  }

  /** A node of {@code type} with the convolution attributes of {@code op} and inputs a, b. */
  private static OperationBuilder conv(Ops tf, String type, Operation op, Output a, Output b) {
    OperationBuilder ob = tf.opBuilder(type).addInput(a).addInput(b);
    for (String name : List.of("strides", "padding", "explicit_paddings", "dilations", "data_format")) {
      op.attrs().find(name).ifPresent(v -> ob.setAttr(name, v));
    }
    return ob;
  }

  private static OperationBuilder pool(Ops tf, String type, Operation op) {
    OperationBuilder ob = tf.opBuilder(type);
    for (String name : List.of("ksize", "strides", "padding", "data_format")) {
      op.attrs().find(name).ifPresent(v -> ob.setAttr(name, v));
    }
    return ob;
  }

  private static Output backpropInput(Ops tf, Operation op, Output filter, Output dy, Shape inputSizes) {
    return conv(tf, "Conv2DBackpropInput", op, filter, dy).setAttr("input_sizes", inputSizes).build().output(0);
  }

  private static Output backpropFilter(Ops tf, Operation op, Output input, Output dy, Shape filterSizes) {
    return conv(tf, "Conv2DBackpropFilter", op, input, dy).setAttr("filter_sizes", filterSizes).build().output(0);
  }

  /** x's shape for an input_sizes attribute: all but the batch (taken from the gradient) must be known. */
  private static Shape inputSizes(Operation op, Output x) {
    Shape s = x.shape();
    if (!s.hasKnownRank() || Arrays.stream(s.dims()).skip(1).anyMatch(d -> d < 0)) {
      throw new IllegalArgumentException("gradients: the gradient of " + op
          + " needs the height, width and channels of input '" + x.name() + "', got " + s);
    }
    return s;
  }

  private static Shape filterSizes(Operation op, Output f) {
    if (!f.shape().isFullyDefined()) {
      throw new IllegalArgumentException("gradients: the gradient of " + op + " needs the shape of filter '"
          + f.name() + "', got " + f.shape());
    }
    return f.shape();
  }

  /** The bias gradient: g summed over every axis but the channel axis. */
  private static Output biasGradient(Ops tf, Operation op, Output g) {
    int rank = g.shape().rank();
    if (rank < 0) {
      throw new IllegalArgumentException("gradients: the gradient of " + op + " needs a value of known rank");
    }
    int channel = ConvGeometry.nchw(op.attrs()) ? 1 : rank - 1;
    int[] axes = new int[rank - 1];
    for (int i = 0, j = 0; i < rank; i++) {
      if (i != channel) {
        axes[j++] = i;
      }
    }
    return tf.reduceSum(g, axes, false);
  }
}
