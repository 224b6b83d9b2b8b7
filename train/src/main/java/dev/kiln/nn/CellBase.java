package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the three cells share: sizes, seed, scope name and initial weights ({@link Spec}), and the
 * weights made from them. A cell's builder methods return a copy with one field of its spec changed.
 */
abstract sealed class CellBase implements RnnCell permits LstmCell, GruCell, SimpleRnnCell {
  /** A cell's settings; the weights are made from them on first use. */
  record Spec(int input, int hidden, OptionalLong seed, String name, Optional<CellWeights.Initial> initial) {
    static Spec of(int input, int hidden, String name) {
      return new Spec(input, hidden, OptionalLong.empty(), name, Optional.empty());
    }

    Spec withSeed(long s) {
      return new Spec(input, hidden, OptionalLong.of(s), name, initial);
    }

    Spec named(String scopeBase) {
      return new Spec(input, hidden, seed, scopeBase, initial);
    }

    Spec withInitial(Tensor wIh, Tensor wHh, Optional<Tensor> bIh, Optional<Tensor> bHh) {
      return new Spec(input, hidden, seed, name, Optional.of(new CellWeights.Initial(wIh, wHh, bIh, bHh)));
    }
  }

  final Spec spec;
  final CellWeights weights;

  CellBase(String kind, Spec spec, int gates) {
    this.spec = spec;
    this.weights = new CellWeights(kind, spec.name(), spec.input(), spec.hidden(), gates, spec.seed(), spec.initial());
  }

  @Override
  public int inputSize() {
    return spec.input();
  }

  @Override
  public int hiddenSize() {
    return spec.hidden();
  }

  /** {@code x W_ih + b_ih + b_hh}: every block of b_hh adds to the pre-activations (not so in a GRU). */
  @Override
  public Output projectInputs(Ops tf, Output x) {
    weights.ensure(tf, x);
    Ops sc = weights.scope(tf);
    return sc.add(sc.matmul(x, weights.wIh()), sc.add(weights.bIh(), weights.bHh()));
  }

  @Override
  public List<Variable> trainableVariables() {
    return weights.variables();
  }

  CellWeights weights() {
    return weights;
  }
}
