package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.List;

/**
 * One time step of a recurrent network: {@code (x_t, state) -> state'}, where the cell's output at
 * step t is the first state tensor, the hidden state h [batch, hidden]. A cell owns four weights,
 * created on first use under a scope unique to the cell ({@code lstm/w_ih}, {@code lstm/w_hh},
 * {@code lstm/b_ih}, {@code lstm/b_hh}), laid out as PyTorch lays out its recurrent modules but
 * transposed to Kiln's {@code x W} convention: {@code w_ih} [input, G*hidden], {@code w_hh}
 * [hidden, G*hidden], two biases [G*hidden], with G gate blocks side by side along the columns.
 *
 * <p>A step is split in two so that a sequence runs fast: {@link #projectInputs} computes
 * {@code x W_ih + b_ih + b_hh} for any number of rows at once (a whole sequence is one product), and
 * {@link #step} adds {@code h W_hh} and applies the gate math. {@link DynamicRnn} runs a cell over
 * sequences; {@link Recurrent}, {@link Bidirectional} and {@link StackedRnn} are the layers on top.
 */
public sealed interface RnnCell permits CellBase {
  int inputSize();

  int hiddenSize();

  /** The number of state tensors, each [batch, hidden]: 2 for an LSTM (h, c), 1 otherwise. */
  int stateCount();

  /**
   * The input part of the gate pre-activations for x [rows, input]: {@code x W_ih + b_ih}, plus the
   * blocks of {@code b_hh} that add to the same pre-activation (all of them but a GRU's candidate
   * block), as [rows, G*hidden]. Creates the weights on first use, with x's floating dtype.
   */
  Output projectInputs(Ops tf, Output x);

  /** The next state from a row block of {@link #projectInputs} [batch, G*hidden] and the state. */
  List<Output> step(Ops tf, Output projectedInput, List<Output> state);

  /** One whole step from x_t [batch, input]: {@code step(projectInputs(x), state)}. */
  default List<Output> call(Ops tf, Output x, List<Output> state) {
    return step(tf, projectInputs(tf, x), state);
  }

  /** The weights once created: w_ih, w_hh, b_ih, b_hh (those that are variables). */
  List<Variable> trainableVariables();
}
