package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Runs a {@link RnnCell} over a batch of sequences: TensorFlow 1.x's {@code dynamic_rnn}. Inputs are
 * [batch, time, input] (or [time, batch, input] with {@link #timeMajor}); with per-example
 * {@link #withLengths lengths} [batch] (int32), an example's outputs past its length are zero and its
 * final state is the state after its own last step (its initial state if its length is 0). The
 * outputs are the cell's h at every step, shaped like the inputs with {@code hidden} features.
 *
 * <p>The steps run in a {@link Ops#whileLoop} (TensorFlow's form), so the time axis may be known only
 * when the graph runs: each iteration reads its input from a {@link dev.kiln.graph.TensorArray} and
 * writes its output into one. Every cell's inputs are projected for all steps with one product before
 * the loop, each step then costs one [batch, hidden] x [hidden, G*hidden] product and the gate math.
 * A GRU's or Elman cell's gradient is the loop's gradient; an LSTM's backward pass is written out as a
 * loop of its own (one product by {@code W_hh^T} per step; {@code dW_hh} and {@code dW_ih} one product
 * each after it). With {@link #unrolled} and a known time axis the steps are unrolled into the graph
 * instead (TensorFlow's {@code static_rnn}), with the same values.
 *
 * <p>Configuration methods return a new helper; {@link #run} builds the nodes.
 */
public final class DynamicRnn {
  /** The outputs [batch, time, hidden] (time-major: [time, batch, hidden]) and the final state. */
  public record Result(Output outputs, List<Output> finalState) {
    public Result {
      Objects.requireNonNull(outputs, "outputs");
      finalState = List.copyOf(finalState);
    }

    /** The final h [batch, hidden]: the first state tensor. */
    public Output finalOutput() {
      return finalState.get(0);
    }
  }

  private final RnnCell cell;
  private final boolean timeMajor;
  private final boolean reverse;
  private final Optional<Output> lengths;
  private final Optional<List<Output>> initialState;
  private final boolean unroll;

  private DynamicRnn(RnnCell cell, boolean timeMajor, boolean reverse, Optional<Output> lengths,
      Optional<List<Output>> initialState, boolean unroll) {
    this.cell = Objects.requireNonNull(cell, "DynamicRnn: cell is null");
    this.timeMajor = timeMajor;
    this.reverse = reverse;
    this.lengths = lengths;
    this.initialState = initialState;
    this.unroll = unroll;
  }

  /** The helper for {@code cell}: batch-major inputs, every example as long as the input, zero initial state. */
  public static DynamicRnn over(RnnCell cell) {
    return new DynamicRnn(cell, false, false, Optional.empty(), Optional.empty(), false);
  }

  /** Inputs and outputs are [time, batch, features]. */
  public DynamicRnn timeMajor() {
    return new DynamicRnn(cell, true, reverse, lengths, initialState, unroll);
  }

  /** Per-example sequence lengths, int32 [batch], each in [0, time]. */
  public DynamicRnn withLengths(Output sequenceLengths) {
    Objects.requireNonNull(sequenceLengths, "DynamicRnn: lengths is null");
    if (sequenceLengths.dtype() != DType.INT32 || sequenceLengths.shape().rank() != 1) {
      throw new IllegalArgumentException("DynamicRnn: lengths '" + sequenceLengths.name() + "' must be i32[batch], got "
          + sequenceLengths.type());
    }
    return new DynamicRnn(cell, timeMajor, reverse, Optional.of(sequenceLengths), initialState, unroll);
  }

  /** The state before the first step (the cell's {@link RnnCell#stateCount} tensors [batch, hidden]). */
  public DynamicRnn withInitialState(List<Output> state) {
    Objects.requireNonNull(state, "DynamicRnn: initial state is null");
    state.forEach(s -> Objects.requireNonNull(s, "DynamicRnn: an initial state tensor is null"));
    return new DynamicRnn(cell, timeMajor, reverse, lengths, Optional.of(List.copyOf(state)), unroll);
  }

  /**
   * Each example runs backwards over its own first {@code length} steps (TensorFlow's
   * {@code reverse_sequence} before and after the run), as the backward half of a bidirectional layer;
   * outputs stay aligned with the inputs' time steps.
   */
  public DynamicRnn reversed() {
    return new DynamicRnn(cell, timeMajor, !reverse, lengths, initialState, unroll);
  }

  /**
   * The steps are unrolled into the graph, one copy of the cell per step, instead of running in a
   * loop; the inputs' time axis must then be known when the graph is built.
   */
  public DynamicRnn unrolled() {
    return new DynamicRnn(cell, timeMajor, reverse, lengths, initialState, true);
  }

  public RnnCell cell() {
    return cell;
  }

  /** Builds the run over {@code inputs}. */
  public Result run(Ops tf, Output inputs) {
    Objects.requireNonNull(inputs, "DynamicRnn: inputs is null");
    Shape s = inputs.shape();
    if (s.rank() != 3 || (s.dim(2) >= 0 && s.dim(2) != cell.inputSize())) {
      throw new IllegalArgumentException("DynamicRnn: inputs '" + inputs.name() + "' must be "
          + (timeMajor ? "[time, batch, " : "[batch, time, ") + cell.inputSize() + "], got " + s);
    }
    if (!inputs.dtype().isFloating()) {
      throw new IllegalArgumentException("DynamicRnn: inputs '" + inputs.name() + "' must be f32 or f64, got "
          + inputs.dtype().shortName());
    }
    if (unroll && s.dim(timeMajor ? 0 : 1) < 0) {
      throw new IllegalArgumentException("DynamicRnn: unrolling needs the time axis of inputs '" + inputs.name()
          + "' to have a known size, got " + s);
    }
    return tf.graph().atomically(() -> {
      Output x = timeMajor ? inputs : tf.transpose(inputs, 1, 0, 2);
      if (reverse) {
        x = Sequences.reverse(tf, x, lengths);
      }
      Result r = unroll ? Recurrence.run(tf, cell, x, lengths, initialState)
          : LoopRecurrence.run(tf, cell, x, lengths, initialState);
      Output out = r.outputs();
      if (reverse) {
        out = Sequences.reverse(tf, out, lengths);
      }
      if (!timeMajor) {
        out = tf.transpose(out, 1, 0, 2);
      }
      return new Result(out, r.finalState());
    });
  }
}
