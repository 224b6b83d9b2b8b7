package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * The Elman cell {@code h' = tanh(x W_ih + b_ih + h W_hh + b_hh)}: PyTorch's {@code nn.RNN}/{@code
 * nn.RNNCell} with the tanh nonlinearity (its weights transposed), TensorFlow 1.x's
 * {@code BasicRNNCell} (whose kernel [in + H, H] over {@code concat(x, h)} is {@code w_ih} above
 * {@code w_hh}, with one bias). The state is h.
 */
public final class SimpleRnnCell extends CellBase {
  public SimpleRnnCell(int inputSize, int hiddenSize) {
    this(Spec.of(inputSize, hiddenSize, "rnn"));
  }

  private SimpleRnnCell(Spec spec) {
    super("SimpleRnnCell", spec, 1);
  }

  public SimpleRnnCell withSeed(long s) {
    return new SimpleRnnCell(spec.withSeed(s));
  }

  public SimpleRnnCell named(String scopeBase) {
    return new SimpleRnnCell(spec.named(scopeBase));
  }

  /** Starts from these weights (w_ih [in, H], w_hh [H, H]) and zero biases. */
  public SimpleRnnCell withInitialWeights(Tensor wIh, Tensor wHh) {
    return new SimpleRnnCell(spec.withInitial(wIh, wHh, Optional.empty(), Optional.empty()));
  }

  /** Starts from these weights and biases. */
  public SimpleRnnCell withInitialWeights(Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
    return new SimpleRnnCell(spec.withInitial(wIh, wHh, Optional.of(bIh), Optional.of(bHh)));
  }

  @Override
  public int stateCount() {
    return 1;
  }

  @Override
  public List<Output> step(Ops tf, Output projectedInput, List<Output> state) {
    weights.checkState(state, 1);
    Ops sc = weights.scope(tf);
    return List.of(sc.tanh(sc.add(projectedInput, sc.matmul(state.get(0), weights.wHh()))));
  }

  @Override
  public String toString() {
    return "SimpleRnnCell(" + spec.input() + " -> " + spec.hidden() + ")";
  }
}
