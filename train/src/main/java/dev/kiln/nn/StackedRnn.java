package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Cells stacked in layers, each running over the whole output sequence of the one below (TensorFlow
 * 1.x's {@code MultiRNNCell} under {@code dynamic_rnn}, PyTorch's {@code num_layers > 1}); running
 * layer by layer computes the same values as stepping the stack and lets each layer project its whole
 * input sequence with one product. The outputs are the top layer's; the final state is every layer's
 * final state, bottom first.
 */
public final class StackedRnn implements Layer {
  private final List<RnnCell> cells;
  private final boolean timeMajor;

  public StackedRnn(List<RnnCell> cells) {
    this(cells, false);
  }

  private StackedRnn(List<RnnCell> cells, boolean timeMajor) {
    Objects.requireNonNull(cells, "StackedRnn: cells is null");
    if (cells.isEmpty()) {
      throw new IllegalArgumentException("StackedRnn: needs at least one cell");
    }
    for (int k = 1; k < cells.size(); k++) {
      RnnCell below = Objects.requireNonNull(cells.get(k - 1), "StackedRnn: a cell is null");
      RnnCell cell = Objects.requireNonNull(cells.get(k), "StackedRnn: a cell is null");
      if (cell.inputSize() != below.hiddenSize()) {
        throw new IllegalArgumentException("StackedRnn: cell " + k + " (" + cell + ") must take " + below.hiddenSize()
            + " inputs, the hidden size of cell " + (k - 1) + " (" + below + ")");
      }
      if (cells.subList(0, k).contains(cell)) {
        throw new IllegalArgumentException("StackedRnn: cell " + k + " (" + cell + ") appears twice; each layer"
            + " needs its own");
      }
    }
    this.cells = List.copyOf(cells);
    this.timeMajor = timeMajor;
  }

  /** Inputs and outputs are [time, batch, features]. */
  public StackedRnn timeMajor() {
    return new StackedRnn(cells, true);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return build(tf, x, Optional.empty()).outputs();
  }

  /** The outputs and final states over x with per-example lengths (int32 [batch]). */
  public DynamicRnn.Result run(Ops tf, Output x, Output lengths) {
    Objects.requireNonNull(lengths, "StackedRnn: lengths is null");
    return build(tf, x, Optional.of(lengths));
  }

  private DynamicRnn.Result build(Ops tf, Output x, Optional<Output> lengths) {
    return tf.graph().atomically(() -> {
      Output h = x;
      List<Output> state = new ArrayList<>();
      for (RnnCell cell : cells) {
        DynamicRnn rnn = DynamicRnn.over(cell);
        rnn = timeMajor ? rnn.timeMajor() : rnn;
        rnn = lengths.isPresent() ? rnn.withLengths(lengths.get()) : rnn;
        DynamicRnn.Result r = rnn.run(tf, h);
        h = r.outputs();
        state.addAll(r.finalState());
      }
      return new DynamicRnn.Result(h, state);
    });
  }

  @Override
  public List<Variable> trainableVariables() {
    return cells.stream().flatMap(c -> c.trainableVariables().stream()).toList();
  }

  @Override
  public String toString() {
    return "StackedRnn(" + cells + ")";
  }
}
