package dev.kiln.nn;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.OptionalLong;

/**
 * A depthwise 2-D convolution over NHWC images (Keras' {@code DepthwiseConv2D}): each of the
 * {@code channels} input channels is convolved with its own {@code multiplier} filters, giving
 * channels*multiplier outputs, plus a bias. Creates {@code <scope>/kernel} [kh, kw, channels,
 * multiplier] and {@code <scope>/bias} [channels*multiplier]. Defaults: stride 1, padding SAME,
 * multiplier 1, Glorot-uniform kernel, zero bias.
 */
public final class DepthwiseConv2D implements Layer {
  private final int channels;
  private final int multiplier;
  private final int kernelSize;
  private final int[] strides;
  private final String padding;
  private final OptionalLong seed;
  private final String name;

  private Graph graph;
  private Variable kernel;
  private Variable bias;

  public DepthwiseConv2D(int channels, int kernelSize) {
    this(channels, 1, kernelSize, new int[] {1, 1}, "SAME", OptionalLong.empty(), "depthwise_conv2d");
  }

  private DepthwiseConv2D(int channels, int multiplier, int kernelSize, int[] strides, String padding,
      OptionalLong seed, String name) {
    if (channels <= 0 || multiplier <= 0 || kernelSize <= 0) {
      throw new IllegalArgumentException("DepthwiseConv2D: channels, multiplier and kernel size must be > 0, got "
          + channels + ", " + multiplier + ", " + kernelSize);
    }
    this.channels = channels;
    this.multiplier = multiplier;
    this.kernelSize = kernelSize;
    this.strides = strides.clone();
    this.padding = padding;
    this.seed = seed;
    this.name = name;
  }

  public DepthwiseConv2D withMultiplier(int m) {
    return new DepthwiseConv2D(channels, m, kernelSize, strides, padding, seed, name);
  }

  public DepthwiseConv2D withStrides(int height, int width) {
    return new DepthwiseConv2D(channels, multiplier, kernelSize, new int[] {height, width}, padding, seed, name);
  }

  public DepthwiseConv2D withPadding(String p) {
    return new DepthwiseConv2D(channels, multiplier, kernelSize, strides, p, seed, name);
  }

  public DepthwiseConv2D withSeed(long s) {
    return new DepthwiseConv2D(channels, multiplier, kernelSize, strides, padding, OptionalLong.of(s), name);
  }

  public DepthwiseConv2D named(String scopeBase) {
    return new DepthwiseConv2D(channels, multiplier, kernelSize, strides, padding, seed, scopeBase);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    Shape s = x.shape();
    if (!x.dtype().isFloating()) {
      throw error("input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (s.rank() != 4 || (s.dim(3) >= 0 && s.dim(3) != channels)) {
      throw error("input '" + x.name() + "' must have shape [?,?,?," + channels + "] (NHWC), got " + s);
    }
    if (graph == null) {
      String scopeName = LayerScopes.unique(tf.graph(), name);
      Ops scope = tf.withSubScope(scopeName);
      long sd = seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName));
      int fan = kernelSize * kernelSize;
      tf.graph().atomically(() -> {
        kernel = scope.variable("kernel", Initializer.GLOROT_UNIFORM.create(scope,
            Shape.of(kernelSize, kernelSize, channels, multiplier), fan, fan * multiplier, x.dtype(), sd));
        bias = scope.variable("bias", Initializer.ZEROS.create(scope, Shape.of(channels * multiplier), fan,
            fan * multiplier, x.dtype(), sd));
        return null;
      });
      graph = tf.graph();
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    }
    Ops scope = tf.withSubScope(LayerScopes.scopeOf(kernel));
    return scope.biasAdd(scope.depthwiseConv2d(x, kernel, strides, padding), bias);
  }

  @Override
  public List<Variable> trainableVariables() {
    return kernel == null ? List.of() : List.of(kernel, bias);
  }

  private IllegalArgumentException error(String message) {
    String where = kernel != null ? kernel.name().substring(0, kernel.name().lastIndexOf('/')) : name;
    return new IllegalArgumentException("DepthwiseConv2D '" + where + "': " + message);
  }

  @Override
  public String toString() {
    return "DepthwiseConv2D(" + channels + " x " + multiplier + ", " + kernelSize + "x" + kernelSize + ")";
  }
}
