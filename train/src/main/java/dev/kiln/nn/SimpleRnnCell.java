package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The Elman cell {@code h' = tanh(x W_ih + b_ih + h W_hh + b_hh)}: PyTorch's {@code nn.RNN}/{@code
 * nn.RNNCell} with the tanh nonlinearity (its weights transposed), TensorFlow 1.x's
 * {@code BasicRNNCell} (whose kernel [in + H, H] over {@code concat(x, h)} is {@code w_ih} above
 * {@code w_hh}, with one bias). The state is h.
 */
public final class SimpleRnnCell implements RnnCell {
  private final int input;
  private final int hidden;
  private final OptionalLong seed;
  private final String name;
  private final Optional<CellWeights.Initial> initial;
  private final CellWeights weights;

  public SimpleRnnCell(int inputSize, int hiddenSize) {
    this(inputSize, hiddenSize, OptionalLong.empty(), "rnn", Optional.empty());
  }

  private SimpleRnnCell(int input, int hidden, OptionalLong seed, String name, Optional<CellWeights.Initial> initial) {
    this.input = input;
    this.hidden = hidden;
    this.seed = seed;
    this.name = name;
    this.initial = initial;
    this.weights = new CellWeights("SimpleRnnCell", name, input, hidden, 1, seed, initial);
  }

  public SimpleRnnCell withSeed(long s) {
    return new SimpleRnnCell(input, hidden, OptionalLong.of(s), name, initial);
  }

  public SimpleRnnCell named(String scopeBase) {
    return new SimpleRnnCell(input, hidden, seed, scopeBase, initial);
  }

  /** Starts from these weights (w_ih [in, H], w_hh [H, H]) and zero biases. */
  public SimpleRnnCell withInitialWeights(Tensor wIh, Tensor wHh) {
    return new SimpleRnnCell(input, hidden, seed, name,
        Optional.of(new CellWeights.Initial(wIh, wHh, Optional.empty(), Optional.empty())));
  }

  /** Starts from these weights and biases. */
  public SimpleRnnCell withInitialWeights(Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
    return new SimpleRnnCell(input, hidden, seed, name,
        Optional.of(new CellWeights.Initial(wIh, wHh, Optional.of(bIh), Optional.of(bHh))));
  }

  @Override
  public int inputSize() {
    return input;
  }

  @Override
  public int hiddenSize() {
    return hidden;
  }

  @Override
  public int stateCount() {
    return 1;
  }

  @Override
  public Output projectInputs(Ops tf, Output x) {
    weights.ensure(tf, x);
    Ops sc = weights.scope(tf);
    return sc.add(sc.matmul(x, weights.wIh()), sc.add(weights.bIh(), weights.bHh()));
  }

  @Override
  public List<Output> step(Ops tf, Output projectedInput, List<Output> state) {
    weights.checkState(state, 1);
    Ops sc = weights.scope(tf);
    return List.of(sc.tanh(sc.add(projectedInput, sc.matmul(state.get(0), weights.wHh()))));
  }

  @Override
  public List<Variable> trainableVariables() {
    return weights.variables();
  }

  CellWeights weights() {
    return weights;
  }

  @Override
  public String toString() {
    return "SimpleRnnCell(" + input + " -> " + hidden + ")";
  }
}
