package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;

/**
 * Layer normalization over the last axis, then {@code * gamma + beta}: one fused LayerNorm node
 * (PyTorch's {@code nn.LayerNorm(features)}, epsilon 1e-5). Creates {@code <scope>/gamma} (ones) and
 * {@code <scope>/beta} (zeros) on first application.
 */
public final class LayerNorm implements Layer {
  private final int features;
  private final double epsilon;
  private final String name;

  private Graph graph;
  private Variable gamma;
  private Variable beta;

  public LayerNorm(int features) {
    this(features, 1e-5, "layer_norm");
  }

  private LayerNorm(int features, double epsilon, String name) {
    if (features <= 0) {
      throw new IllegalArgumentException("LayerNorm: features must be > 0, got " + features);
    }
    if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("LayerNorm: epsilon must be a finite number > 0, got " + epsilon);
    }
    this.features = features;
    this.epsilon = epsilon;
    this.name = name;
  }

  public LayerNorm withEpsilon(double e) {
    return new LayerNorm(features, e, name);
  }

  public LayerNorm named(String scopeBase) {
    return new LayerNorm(features, epsilon, scopeBase);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    if (!x.dtype().isFloating()) {
      throw error("input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    Shape s = x.shape();
    if (!s.hasKnownRank() || s.rank() < 1 || (s.dim(s.rank() - 1) >= 0 && s.dim(s.rank() - 1) != features)) {
      throw error("input '" + x.name() + "' must have " + features + " features on its last axis, got " + s);
    }
    if (graph == null) {
      String scopeName = LayerScopes.unique(tf.graph(), name);
      Ops scope = tf.withSubScope(scopeName);
      DType d = x.dtype();
      tf.graph().atomically(() -> {
        gamma = scope.variable("gamma", scope.fill(Shape.of(features), scope.constant(1, d)));
        beta = scope.variable("beta", scope.fill(Shape.of(features), scope.constant(0, d)));
        return null;
      });
      graph = tf.graph();
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    }
    String scopeName = gamma.name().substring(0, gamma.name().lastIndexOf('/'));
    return tf.withSubScope(scopeName.substring(scopeName.lastIndexOf('/') + 1)).layerNorm(x, gamma, beta, epsilon);
  }

  public Optional<Variable> gamma() {
    return Optional.ofNullable(gamma);
  }

  public Optional<Variable> beta() {
    return Optional.ofNullable(beta);
  }

  @Override
  public List<Variable> trainableVariables() {
    return gamma == null ? List.of() : List.of(gamma, beta);
  }

  private IllegalArgumentException error(String message) {
    String where = gamma != null ? gamma.name().substring(0, gamma.name().lastIndexOf('/')) : name;
    return new IllegalArgumentException("LayerNorm '" + where + "': " + message);
  }

  @Override
  public String toString() {
    return "LayerNorm(" + features + ")";
  }
}
