package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Multi-head scaled dot-product attention (Vaswani et al.; PyTorch's {@code nn.MultiheadAttention}
 * with {@code batch_first}), built from batched products and softmax. For queries [batch, T, d] and
 * keys/values [batch, S, d] with {@code heads} heads of {@code d / heads} features:
 * {@code softmax(Q_h K_h^T / sqrt(d / heads)) V_h} per head, the heads concatenated and projected,
 * where Q, K, V are linear projections ({@code <scope>/query}, {@code key}, {@code value},
 * {@code output}: a [d, d] kernel and a [d] bias each). {@link #causal} masks each query's later
 * positions. T, S and d must be known; the batch may be unknown.
 */
public final class MultiHeadAttention implements Layer {
  private final int features;
  private final int heads;
  private final boolean causal;
  private final OptionalLong seed;
  private final String name;

  private Graph graph;
  private String scopeName;
  private final List<Variable> vars = new ArrayList<>();

  public MultiHeadAttention(int features, int heads) {
    this(features, heads, false, OptionalLong.empty(), "attention");
  }

  private MultiHeadAttention(int features, int heads, boolean causal, OptionalLong seed, String name) {
    if (features <= 0 || heads <= 0 || features % heads != 0) {
      throw new IllegalArgumentException("MultiHeadAttention: features (" + features
          + ") must be > 0 and divisible by heads (" + heads + ")");
    }
    this.features = features;
    this.heads = heads;
    this.causal = causal;
    this.seed = seed;
    this.name = name;
  }

  /** Each query attends only to positions up to its own (needs T == S). */
  public MultiHeadAttention causal() {
    return new MultiHeadAttention(features, heads, true, seed, name);
  }

  public MultiHeadAttention withSeed(long s) {
    return new MultiHeadAttention(features, heads, causal, OptionalLong.of(s), name);
  }

  public MultiHeadAttention named(String scopeBase) {
    return new MultiHeadAttention(features, heads, causal, seed, scopeBase);
  }

  /** Self-attention: x attends to itself. */
  @Override
  public Output apply(Ops tf, Output x) {
    return apply(tf, x, x);
  }

  /** query [batch, T, d] attends to keyValue [batch, S, d]. */
  public Output apply(Ops tf, Output query, Output keyValue) {
    int t = check(query, "query");
    int s = check(keyValue, "keys and values");
    if (query.dtype() != keyValue.dtype()) {
      throw error("query and keys differ in dtype: " + query.dtype().shortName() + " vs "
          + keyValue.dtype().shortName());
    }
    if (causal && t != s) {
      throw error("a causal mask needs as many keys as queries, got " + t + " and " + s);
    }
    if (graph == null) {
      createVariables(tf, query.dtype());
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    } else if (vars.get(0).dtype() != query.dtype()) {
      throw error("input is " + query.dtype().shortName() + " but the layer's variables are "
          + vars.get(0).dtype().shortName());
    }
    Ops scope = tf.withSubScope(scopeName.substring(scopeName.lastIndexOf('/') + 1));
    DType d = query.dtype();
    int dk = features / heads;
    return tf.graph().atomically(() -> {
      Output q = split(scope, project(scope, query, 0), t);
      Output k = split(scope, project(scope, keyValue, 1), s);
      Output v = split(scope, project(scope, keyValue, 2), s);
      Output scores = scope.mul(scope.matmul(q, k, false, true), scope.constant(1 / Math.sqrt(dk), d));
      if (causal) {
        double[] mask = new double[t * s];
        for (int i = 0; i < t; i++) {
          for (int j = i + 1; j < s; j++) {
            mask[i * s + j] = -1e9;
          }
        }
        scores = scope.add(scores, scope.cast(scope.constant(Tensor.of(mask, t, s)), d));
      }
      Output attended = scope.matmul(scope.softmax(scores), v); // [batch, heads, T, dk]
      Output merged = scope.reshape(scope.transpose(attended, 0, 2, 1, 3), -1, t, features);
      return project(scope, merged, 3);
    });
  }

  /** x [batch, n, d] times projection i's kernel, plus its bias. */
  private Output project(Ops scope, Output x, int i) {
    return scope.add(scope.matmul(x, vars.get(2 * i)), vars.get(2 * i + 1));
  }

  /** [batch, n, d] to [batch, heads, n, d / heads]. */
  private Output split(Ops scope, Output x, int n) {
    return scope.transpose(scope.reshape(x, -1, n, heads, features / heads), 0, 2, 1, 3);
  }

  private int check(Output x, String what) {
    Shape s = x.shape();
    if (!x.dtype().isFloating()) {
      throw error(what + " '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (s.rank() != 3 || s.dim(1) < 0 || s.dim(2) != features) {
      throw error(what + " '" + x.name() + "' must have shape [batch, n, " + features + "] with n known, got " + s);
    }
    return s.dim(1);
  }

  private void createVariables(Ops tf, DType d) {
    scopeName = LayerScopes.unique(tf.graph(), name);
    Ops scope = tf.withSubScope(scopeName);
    long base = seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName));
    tf.graph().atomically(() -> {
      String[] names = {"query", "key", "value", "output"};
      for (int i = 0; i < names.length; i++) {
        Ops p = scope.withSubScope(names[i]);
        vars.add(p.variable("kernel", Initializer.GLOROT_UNIFORM.create(p, Shape.of(features, features), features,
            features, d, base + i)));
        vars.add(p.variable("bias", Initializer.ZEROS.create(p, Shape.of(features), features, features, d, base)));
      }
      return null;
    });
    graph = tf.graph();
  }

  /** The kernels and biases of the query, key, value and output projections, in that order. */
  @Override
  public List<Variable> trainableVariables() {
    return List.copyOf(vars);
  }

  private IllegalArgumentException error(String message) {
    return new IllegalArgumentException("MultiHeadAttention '" + (scopeName != null ? scopeName : name) + "': "
        + message);
  }

  @Override
  public String toString() {
    return "MultiHeadAttention(" + features + ", " + heads + " heads" + (causal ? ", causal" : "") + ")";
  }
}
