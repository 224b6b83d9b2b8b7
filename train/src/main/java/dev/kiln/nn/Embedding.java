package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A lookup table of {@code vocabulary} vectors of {@code dimension} floats: integer ids of any shape
 * become vectors along a new last axis (a Gather of {@code <scope>/embeddings} rows; Keras's
 * {@code Embedding}, PyTorch's {@code nn.Embedding}). An id outside 0..vocabulary-1 fails the run with
 * a message naming it. The table starts uniform in [-0.05, 0.05] (Keras's default).
 *
 * <p>The table's gradient is dense: a tensor of the table's shape, zero except the rows looked up, so a
 * training step costs time and memory in proportion to the whole table (vocabulary x dimension), not
 * to the ids of the batch.
 */
public final class Embedding implements Layer {
  private final int vocabulary;
  private final int dimension;
  private final DType dtype;
  private final OptionalLong seed;
  private final String name;

  private Graph graph;
  private Variable table;

  /** A FLOAT32 table. */
  public Embedding(int vocabulary, int dimension) {
    this(vocabulary, dimension, DType.FLOAT32, OptionalLong.empty(), "embedding");
  }

  private Embedding(int vocabulary, int dimension, DType dtype, OptionalLong seed, String name) {
    if (vocabulary <= 0 || dimension <= 0) {
      throw new IllegalArgumentException(
          "Embedding: vocabulary and dimension must be > 0, got " + vocabulary + " x " + dimension);
    }
    if (!dtype.isFloating()) {
      throw new IllegalArgumentException("Embedding: dtype must be f32 or f64, got " + dtype.shortName());
    }
    this.vocabulary = vocabulary;
    this.dimension = dimension;
    this.dtype = dtype;
    this.seed = seed;
    this.name = name;
  }

  public Embedding withDType(DType d) {
    return new Embedding(vocabulary, dimension, d, seed, name);
  }

  public Embedding withSeed(long s) {
    return new Embedding(vocabulary, dimension, dtype, OptionalLong.of(s), name);
  }

  public Embedding named(String scopeBase) {
    return new Embedding(vocabulary, dimension, dtype, seed, scopeBase);
  }

  @Override
  public Output apply(Ops tf, Output ids) {
    if (!ids.dtype().isInteger()) {
      throw error("ids '" + ids.name() + "' must be i32 or i64, got " + ids.dtype().shortName());
    }
    if (graph == null) {
      String scopeName = LayerScopes.unique(tf.graph(), name);
      Ops scope = tf.withSubScope(scopeName);
      long s = seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName));
      tf.graph().atomically(() -> {
        Output u = scope.randomUniform(Shape.of(vocabulary, dimension), dtype, s);
        table = scope.variable("embeddings",
            scope.mul(scope.sub(u, scope.constant(0.5, dtype)), scope.constant(0.1, dtype)));
        return null;
      });
      graph = tf.graph();
    } else if (graph != tf.graph()) {
      throw error("was built in another graph; a layer's variables belong to one graph");
    }
    String scopeName = table.name().substring(0, table.name().lastIndexOf('/'));
    return tf.withSubScope(scopeName.substring(scopeName.lastIndexOf('/') + 1)).gather(table, ids, 0);
  }

  /** The table [vocabulary, dimension], once applied. */
  public Optional<Variable> embeddings() {
    return Optional.ofNullable(table);
  }

  @Override
  public List<Variable> trainableVariables() {
    return table == null ? List.of() : List.of(table);
  }

  private IllegalArgumentException error(String message) {
    String where = table != null ? table.name().substring(0, table.name().lastIndexOf('/')) : name;
    return new IllegalArgumentException("Embedding '" + where + "': " + message);
  }

  @Override
  public String toString() {
    return "Embedding(" + vocabulary + " x " + dimension + ")";
  }
}
