package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The four weights of a recurrent cell and their creation: w_ih [input, G*hidden], w_hh
 * [hidden, G*hidden], b_ih and b_hh [G*hidden]. Random weights are PyTorch's: uniform in
 * [-1/sqrt(hidden), 1/sqrt(hidden)], biases zero; or the given initial values.
 */
final class CellWeights {
  /** Initial values given by the user (row-major, Kiln's layout), or none for random ones. */
  record Initial(Tensor wIh, Tensor wHh, Optional<Tensor> bIh, Optional<Tensor> bHh) {}

  private final String kind;
  private final String name;
  private final int input;
  private final int hidden;
  private final int gates;
  private final OptionalLong seed;
  private final Optional<Initial> initial;

  private Graph graph;
  private String scope;
  private Variable wIh;
  private Variable wHh;
  private Variable bIh;
  private Variable bHh;

  CellWeights(String kind, String name, int input, int hidden, int gates, OptionalLong seed,
      Optional<Initial> initial) {
    if (input <= 0 || hidden <= 0) {
      throw new IllegalArgumentException(kind + ": input and hidden sizes must be > 0, got " + input + " and "
          + hidden);
    }
    this.kind = kind;
    this.name = name;
    this.input = input;
    this.hidden = hidden;
    this.gates = gates;
    this.seed = seed;
    this.initial = initial;
    initial.ifPresent(this::checkInitial);
  }

  private void checkInitial(Initial init) {
    int cols = gates * hidden;
    checkShape("w_ih", init.wIh(), Shape.of(input, cols));
    checkShape("w_hh", init.wHh(), Shape.of(hidden, cols));
    init.bIh().ifPresent(b -> checkShape("b_ih", b, Shape.of(cols)));
    init.bHh().ifPresent(b -> checkShape("b_hh", b, Shape.of(cols)));
  }

  private void checkShape(String what, Tensor t, Shape expected) {
    if (!t.shape().equals(expected)) {
      throw new IllegalArgumentException(kind + ": initial " + what + " must have shape " + expected + ", got "
          + t.shape());
    }
    if (!t.dtype().isFloating()) {
      throw new IllegalArgumentException(kind + ": initial " + what + " must be f32 or f64, got "
          + t.dtype().shortName());
    }
  }

  int input() {
    return input;
  }

  int hidden() {
    return hidden;
  }

  Variable wIh() {
    return wIh;
  }

  Variable wHh() {
    return wHh;
  }

  Variable bIh() {
    return bIh;
  }

  Variable bHh() {
    return bHh;
  }

  /** The scope the cell's nodes are built under, once the weights exist. */
  Ops scope(Ops tf) {
    return tf.withSubScope(scope);
  }

  /** Creates the weights with x's dtype on first use; afterwards checks that x fits them. */
  void ensure(Ops tf, Output x) {
    Shape s = x.shape();
    if (!x.dtype().isFloating()) {
      throw error("input '" + x.name() + "' must be f32 or f64, got " + x.dtype().shortName());
    }
    if (s.rank() != 2 || (s.dim(1) >= 0 && s.dim(1) != input)) {
      throw error("input '" + x.name() + "' must have shape [?," + input + "], got " + s);
    }
    if (graph == null) {
      create(tf, x.dtype());
    } else if (Ops.create(graph).graph() != tf.graph()) {
      // tf builds into this graph, or into the loop or branch body being built through it.
      throw error("was built in another graph; a cell's weights belong to one graph");
    } else if (wIh.dtype() != x.dtype()) {
      throw error("input '" + x.name() + "' is " + x.dtype().shortName() + " but the cell's weights are "
          + wIh.dtype().shortName());
    }
  }

  /** The weights of {@code cell}. */
  static CellWeights of(RnnCell cell) {
    return switch (cell) {
      case CellBase c -> c.weights();
    };
  }

  /** Checks a state tensor against the cell: [batch, hidden] of the weights' dtype. */
  void checkState(List<Output> state, int count) {
    if (state.size() != count) {
      throw error("needs " + count + " state tensor" + (count == 1 ? "" : "s") + ", got " + state.size());
    }
    for (Output s : state) {
      Shape sh = s.shape();
      if (sh.rank() != 2 || (sh.dim(1) >= 0 && sh.dim(1) != hidden) || s.dtype() != wIh.dtype()) {
        throw error("state '" + s.name() + "' must be " + wIh.dtype().shortName() + "[?," + hidden + "], got "
            + s.type());
      }
    }
  }

  private void create(Ops tf, DType dtype) {
    String scopeName = LayerScopes.unique(tf.graph(), name);
    Ops sc = tf.withSubScope(scopeName);
    long s = seed.orElseGet(() -> LayerScopes.defaultSeed(tf.graph(), scopeName));
    int cols = gates * hidden;
    tf.graph().atomically(() -> {
      if (initial.isPresent()) {
        Initial init = initial.get();
        wIh = sc.variable("w_ih", sc.cast(sc.constant(init.wIh()), dtype));
        wHh = sc.variable("w_hh", sc.cast(sc.constant(init.wHh()), dtype));
        bIh = sc.variable("b_ih", init.bIh().map(b -> sc.cast(sc.constant(b), dtype))
            .orElseGet(() -> sc.fill(Shape.of(cols), sc.constant(0, dtype))));
        bHh = sc.variable("b_hh", init.bHh().map(b -> sc.cast(sc.constant(b), dtype))
            .orElseGet(() -> sc.fill(Shape.of(cols), sc.constant(0, dtype))));
      } else {
        double limit = 1 / Math.sqrt(hidden);
        wIh = sc.variable("w_ih", uniform(sc, Shape.of(input, cols), limit, dtype, s));
        wHh = sc.variable("w_hh", uniform(sc, Shape.of(hidden, cols), limit, dtype, s + 1));
        bIh = sc.variable("b_ih", sc.fill(Shape.of(cols), sc.constant(0, dtype)));
        bHh = sc.variable("b_hh", sc.fill(Shape.of(cols), sc.constant(0, dtype)));
      }
      return null;
    });
    scope = scopeName;
    graph = tf.graph();
  }

  private static Output uniform(Ops tf, Shape shape, double limit, DType dtype, long seed) {
    Output u = tf.randomUniform(shape, dtype, seed);
    return tf.mul(tf.sub(tf.mul(u, tf.constant(2, dtype)), tf.constant(1, dtype)), tf.constant(limit, dtype));
  }

  List<Variable> variables() {
    return wIh == null ? List.of() : List.of(wIh, wHh, bIh, bHh);
  }

  IllegalArgumentException error(String message) {
    return new IllegalArgumentException(kind + " '" + (scope != null ? scope : name) + "': " + message);
  }
}
