package dev.kiln.nn;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A 2-D convolution over NHWC images, {@code y = conv2d(x, kernel) + bias}: Keras' {@code Conv2D},
 * PyTorch's {@code nn.Conv2d} (in NHWC). Creates {@code <scope>/kernel} [kh, kw, in/groups, out] (HWIO)
 * and {@code <scope>/bias} [out] on first application. Defaults: stride 1, padding SAME, no dilation,
 * one group, Glorot-uniform kernel (fan-in kh*kw*in/groups, fan-out kh*kw*out/groups), zero bias.
 * Configuration methods return a new, unapplied layer.
 */
public final class Conv2D implements Layer {
  private final int in;
  private final int out;
  private final int kh;
  private final int kw;
  private final int[] strides;
  private final String padding;
  private final int[] dilations;
  private final int groups;
  private final boolean useBias;
  private final Initializer initializer;
  private final OptionalLong seed;
  private final String name;

  private Graph graph;
  private Variable kernel;
  private Variable bias;

  /** A {@code kernelSize} x {@code kernelSize} convolution from {@code in} to {@code out} channels. */
  public Conv2D(int in, int out, int kernelSize) {
    this(in, out, kernelSize, kernelSize, new int[] {1, 1}, "SAME", new int[] {1, 1}, 1, true,
        Initializer.GLOROT_UNIFORM, OptionalLong.empty(), "conv2d");
  }

  private Conv2D(int in, int out, int kh, int kw, int[] strides, String padding, int[] dilations, int groups,
      boolean useBias, Initializer initializer, OptionalLong seed, String name) {
    if (in <= 0 || out <= 0 || kh <= 0 || kw <= 0 || groups <= 0) {
      throw new IllegalArgumentException("Conv2D: channels, kernel size and groups must be > 0, got " + in + " -> "
          + out + ", kernel " + kh + "x" + kw + ", groups " + groups);
    }
    if (in % groups != 0 || out % groups != 0) {
      throw new IllegalArgumentException("Conv2D: " + groups + " groups must divide both channel counts, got " + in
          + " -> " + out);
    }
    this.in = in;
    this.out = out;
    this.kh = kh;
    this.kw = kw;
    this.strides = strides.clone();
    this.padding = padding;
    this.dilations = dilations.clone();
    this.groups = groups;
    this.useBias = useBias;
    this.initializer = initializer;
    this.seed = seed;
    this.name = name;
  }

  private Conv2D with(int[] s, String p, int[] d, int g, boolean b, Initializer i, OptionalLong sd, String n) {
    return new Conv2D(in, out, kh, kw, s, p, d, g, b, i, sd, n);
  }

  public Conv2D withKernelSize(int height, int width) {
    return new Conv2D(in, out, height, width, strides, padding, dilations, groups, useBias, initializer, seed, name);
  }

  public Conv2D withStrides(int height, int width) {
    return with(new int[] {height, width}, padding, dilations, groups, useBias, initializer, seed, name);
  }

  /** "SAME" (the default) or "VALID". */
  public Conv2D withPadding(String p) {
    return with(strides, p, dilations, groups, useBias, initializer, seed, name);
  }

  public Conv2D withDilations(int height, int width) {
    return with(strides, padding, new int[] {height, width}, groups, useBias, initializer, seed, name);
  }

  /** Grouped convolution: in and out channels split into {@code g} groups convolved separately. */
  public Conv2D withGroups(int g) {
    return with(strides, padding, dilations, g, useBias, initializer, seed, name);
  }

  public Conv2D withoutBias() {
    return with(strides, padding, dilations, groups, false, initializer, seed, name);
  }

  public Conv2D withInitializer(Initializer init) {
    return with(strides, padding, dilations, groups, useBias, init, seed, name);
  }

  public Conv2D withSeed(long s) {
    return with(strides, padding, dilations, groups, useBias, initializer, OptionalLong.of(s), name);
  }

  /** The base of the scope name ({@code conv2d} by default); made unique with a suffix if taken. */
  public Conv2D named(String scopeBase) {
    return with(strides, padding, dilations, groups, useBias, initializer, seed, scopeBase);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    Shape s = x.shape();
    if (!x.dtype().isFloating()) {
      throw error("input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (s.rank() != 4 || (s.dim(3) >= 0 && s.dim(3) != in)) {
      throw error("input '" + x.name() + "' must have shape [?,?,?," + in + "] (NHWC), got " + s);
    }
    if (graph == null) {
      createVariables(tf, x);
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    }
    Ops scope = tf.withSubScope(LayerScopes.scopeOf(kernel));
    Output y = scope.conv2d(x, kernel, strides, padding, dilations, new int[0], "NHWC");
    return useBias ? scope.biasAdd(y, bias) : y;
  }

  private void createVariables(Ops tf, Output x) {
    String scopeName = LayerScopes.unique(tf.graph(), name);
    Ops scope = tf.withSubScope(scopeName);
    long sd = seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName));
    int fanIn = kh * kw * (in / groups);
    int fanOut = kh * kw * (out / groups);
    tf.graph().atomically(() -> {
      kernel = scope.variable("kernel", initializer.create(scope, Shape.of(kh, kw, in / groups, out), fanIn, fanOut,
          x.dtype(), sd));
      bias = useBias ? scope.variable("bias", Initializer.ZEROS.create(scope, Shape.of(out), fanIn, fanOut,
          x.dtype(), sd)) : null;
      return null;
    });
    graph = tf.graph();
  }

  /** The kernel variable [kh, kw, in/groups, out], once applied. */
  public Optional<Variable> kernel() {
    return Optional.ofNullable(kernel);
  }

  public Optional<Variable> bias() {
    return Optional.ofNullable(bias);
  }

  @Override
  public List<Variable> trainableVariables() {
    if (kernel == null) {
      return List.of();
    }
    return bias == null ? List.of(kernel) : List.of(kernel, bias);
  }

  private IllegalArgumentException error(String message) {
    String where = kernel != null ? kernel.name().substring(0, kernel.name().lastIndexOf('/')) : name;
    return new IllegalArgumentException("Conv2D '" + where + "': " + message);
  }

  @Override
  public String toString() {
    return "Conv2D(" + in + " -> " + out + ", " + kh + "x" + kw + ", strides " + strides[0] + "x" + strides[1] + ", "
        + padding + (groups > 1 ? ", " + groups + " groups" : "") + (useBias ? "" : ", no bias") + ")";
  }
}
