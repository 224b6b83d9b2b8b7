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
 * A fully connected layer, {@code y = x W + b} for x of shape [batch, inFeatures]: PyTorch's
 * {@code nn.Linear}, TensorFlow's {@code Dense}. Creates {@code <scope>/weight} [in, out] and
 * {@code <scope>/bias} [out] on first application, with the input's floating dtype.
 *
 * <p>Configuration methods return a new, unapplied layer. Without an explicit seed the initializer's
 * seed is derived from the layer's scope name and position in the graph, so that two layers of one graph
 * differ and a rebuilt graph starts from the same values.
 */
public final class Linear implements Layer {
  private final int inFeatures;
  private final int outFeatures;
  private final boolean useBias;
  private final Initializer initializer;
  private final OptionalLong seed;
  private final String name;

  private Graph graph;
  private Variable weight;
  private Variable bias;

  /** A layer with Glorot-uniform weights, zero bias, named {@code linear}. */
  public Linear(int inFeatures, int outFeatures) {
    this(inFeatures, outFeatures, true, Initializer.GLOROT_UNIFORM, OptionalLong.empty(), "linear");
  }

  private Linear(int inFeatures, int outFeatures, boolean useBias, Initializer initializer, OptionalLong seed,
      String name) {
    if (inFeatures <= 0 || outFeatures <= 0) {
      throw new IllegalArgumentException(
          "Linear: feature counts must be > 0, got " + inFeatures + " -> " + outFeatures);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.useBias = useBias;
    this.initializer = initializer;
    this.seed = seed;
    this.name = name;
  }

  public Linear withInitializer(Initializer init) {
    return new Linear(inFeatures, outFeatures, useBias, init, seed, name);
  }

  public Linear withSeed(long s) {
    return new Linear(inFeatures, outFeatures, useBias, initializer, OptionalLong.of(s), name);
  }

  public Linear withoutBias() {
    return new Linear(inFeatures, outFeatures, false, initializer, seed, name);
  }

  /** The base of the scope name ({@code linear} by default); made unique with a suffix if taken. */
  public Linear named(String scopeBase) {
    return new Linear(inFeatures, outFeatures, useBias, initializer, seed, scopeBase);
  }

  public int inFeatures() {
    return inFeatures;
  }

  public int outFeatures() {
    return outFeatures;
  }

  @Override
  public Output apply(Ops tf, Output x) {
    Shape s = x.shape();
    if (!x.dtype().isFloating()) {
      throw error("input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (s.rank() != 2 || (s.dim(1) >= 0 && s.dim(1) != inFeatures)) {
      throw error("input '" + x.name() + "' must have shape [?," + inFeatures + "], got " + s);
    }
    if (graph == null) {
      createVariables(tf, x);
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    } else if (weight.dtype() != x.dtype()) {
      throw error("input '" + x.name() + "' is " + x.dtype().shortName() + " but the layer's variables are "
          + weight.dtype().shortName());
    }
    Ops scope = tf.withSubScope(scopeOf(weight));
    Output y = scope.matmul(x, weight);
    return useBias ? scope.add(y, bias) : y;
  }

  private void createVariables(Ops tf, Output x) {
    String scopeName = LayerScopes.unique(tf.graph(), name);
    Ops scope = tf.withSubScope(scopeName);
    long s = seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName));
    tf.graph().atomically(() -> {
      weight = scope.variable("weight", initializer.create(scope, Shape.of(inFeatures, outFeatures),
          inFeatures, outFeatures, x.dtype(), s));
      bias = useBias ? scope.variable("bias", Initializer.ZEROS.create(scope, Shape.of(outFeatures),
          inFeatures, outFeatures, x.dtype(), s)) : null;
      return null;
    });
    graph = tf.graph();
  }

  /** The weight variable [in, out], once applied. */
  public Optional<Variable> weight() {
    return Optional.ofNullable(weight);
  }

  /** The bias variable [out], once applied with a bias. */
  public Optional<Variable> bias() {
    return Optional.ofNullable(bias);
  }

  @Override
  public List<Variable> trainableVariables() {
    if (weight == null) {
      return List.of();
    }
    return bias == null ? List.of(weight) : List.of(weight, bias);
  }

  /** The scope the variables live in: the weight's name without its last part. */
  private static String scopeOf(Variable v) {
    String n = v.name();
    String parent = n.substring(0, n.lastIndexOf('/'));
    return parent.substring(parent.lastIndexOf('/') + 1);
  }

  private IllegalArgumentException error(String message) {
    String where = weight != null ? weight.name().substring(0, weight.name().lastIndexOf('/')) : name;
    return new IllegalArgumentException("Linear '" + where + "': " + message);
  }

  @Override
  public String toString() {
    return "Linear(" + inFeatures + " -> " + outFeatures + (useBias ? "" : ", no bias") + ")";
  }
}
