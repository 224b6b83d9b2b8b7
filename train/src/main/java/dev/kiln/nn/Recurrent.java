package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Objects;

/**
 * A recurrent layer: a {@link RnnCell} run over sequences by {@link DynamicRnn} (Keras's {@code RNN}
 * with {@code return_sequences=True}, PyTorch's one-layer {@code nn.LSTM}/{@code nn.GRU}/{@code nn.RNN}).
 * {@link #apply} maps [batch, time, input] to the outputs [batch, time, hidden] (time-major with
 * {@link #timeMajor}); {@link #run} also takes per-example lengths and returns the final state.
 */
public final class Recurrent implements Layer {
  private final RnnCell cell;
  private final boolean timeMajor;

  public Recurrent(RnnCell cell) {
    this(cell, false);
  }

  private Recurrent(RnnCell cell, boolean timeMajor) {
    this.cell = Objects.requireNonNull(cell, "Recurrent: cell is null");
    this.timeMajor = timeMajor;
  }

  /** Inputs and outputs are [time, batch, features]. */
  public Recurrent timeMajor() {
    return new Recurrent(cell, true);
  }

  public RnnCell cell() {
    return cell;
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return helper().run(tf, x).outputs();
  }

  /** The outputs and final state over x with per-example lengths (int32 [batch]). */
  public DynamicRnn.Result run(Ops tf, Output x, Output lengths) {
    return helper().withLengths(lengths).run(tf, x);
  }

  private DynamicRnn helper() {
    DynamicRnn rnn = DynamicRnn.over(cell);
    return timeMajor ? rnn.timeMajor() : rnn;
  }

  @Override
  public List<Variable> trainableVariables() {
    return cell.trainableVariables();
  }

  @Override
  public String toString() {
    return "Recurrent(" + cell + ")";
  }
}
