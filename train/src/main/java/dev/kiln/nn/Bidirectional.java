package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Two cells over the same sequences, one forwards and one backwards over each example's own steps
 * (TensorFlow 1.x's {@code bidirectional_dynamic_rnn}, PyTorch's {@code bidirectional=True}): the
 * outputs are the forward and backward outputs concatenated along the features,
 * [batch, time, hiddenFw + hiddenBw], zero past each example's length; the final state is the forward
 * cell's final state followed by the backward cell's (the backward one has seen the example's first step last).
 */
public final class Bidirectional implements Layer {
  private final RnnCell forward;
  private final RnnCell backward;
  private final boolean timeMajor;

  public Bidirectional(RnnCell forward, RnnCell backward) {
    this(forward, backward, false);
  }

  private Bidirectional(RnnCell forward, RnnCell backward, boolean timeMajor) {
    this.forward = Objects.requireNonNull(forward, "Bidirectional: forward cell is null");
    this.backward = Objects.requireNonNull(backward, "Bidirectional: backward cell is null");
    if (forward == backward) {
      throw new IllegalArgumentException("Bidirectional: the two directions need two cells, got the same " + forward);
    }
    if (forward.inputSize() != backward.inputSize()) {
      throw new IllegalArgumentException("Bidirectional: the cells' input sizes differ: " + forward + " and "
          + backward);
    }
    this.timeMajor = timeMajor;
  }

  /** Inputs and outputs are [time, batch, features]. */
  public Bidirectional timeMajor() {
    return new Bidirectional(forward, backward, true);
  }

  @Override
  public Output apply(Ops tf, Output x) {
    return build(tf, x, Optional.empty()).outputs();
  }

  /** The outputs and final states over x with per-example lengths (int32 [batch]). */
  public DynamicRnn.Result run(Ops tf, Output x, Output lengths) {
    Objects.requireNonNull(lengths, "Bidirectional: lengths is null");
    return build(tf, x, Optional.of(lengths));
  }

  private DynamicRnn.Result build(Ops tf, Output x, Optional<Output> lengths) {
    return tf.graph().atomically(() -> {
      DynamicRnn.Result fw = helper(forward, lengths).run(tf, x);
      DynamicRnn.Result bw = helper(backward, lengths).reversed().run(tf, x);
      List<Output> state = new ArrayList<>(fw.finalState());
      state.addAll(bw.finalState());
      return new DynamicRnn.Result(tf.concat(List.of(fw.outputs(), bw.outputs()), 2), state);
    });
  }

  private DynamicRnn helper(RnnCell cell, Optional<Output> lengths) {
    DynamicRnn rnn = DynamicRnn.over(cell);
    rnn = timeMajor ? rnn.timeMajor() : rnn;
    return lengths.isPresent() ? rnn.withLengths(lengths.get()) : rnn;
  }

  @Override
  public List<Variable> trainableVariables() {
    List<Variable> vars = new ArrayList<>(forward.trainableVariables());
    vars.addAll(backward.trainableVariables());
    return List.copyOf(vars);
  }

  @Override
  public String toString() {
    return "Bidirectional(" + forward + ", " + backward + ")";
  }
}
