package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The recurrence of {@link DynamicRnn} on time-major inputs [T, B, in]. Past an example's length a
 * step keeps its state ({@code s + m (s' - s)} with the step's 0/1 mask m) and outputs zeros, so the
 * final state is the one after the example's last step. An LSTM projects all steps' inputs with one
 * product and runs as an {@link LstmSequence} (its backward written out); other cells project each
 * step's input separately and are differentiated step by step.
 */
final class Recurrence {
  private Recurrence() {}

  static DynamicRnn.Result run(Ops tf, RnnCell cell, Output x, Optional<Output> lengths,
      Optional<List<Output>> initialState) {
    int steps = x.shape().dim(0);
    Optional<Output> masks = lengths.map(len -> tf.expandDims(tf.cast(
        tf.less(tf.reshape(tf.range(steps), steps, 1), tf.reshape(len, 1, -1)), x.dtype()), 2));
    if (cell instanceof LstmCell lstm) {
      return lstm(tf, lstm, x, masks, initialState);
    }
    int hidden = cell.hiddenSize();
    List<Output> state = null;
    List<Output> outputs = new ArrayList<>();
    for (int t = 0; t < steps; t++) {
      Output xt = tf.reshape(tf.slice(x, new int[] {t, 0, 0}, new int[] {1, -1, -1}), -1, cell.inputSize());
      Output projected = cell.projectInputs(tf, xt);
      if (state == null) {
        state = initialState.orElseGet(() -> zeroState(tf, cell, projected));
      }
      List<Output> next = cell.step(tf, projected, state);
      if (masks.isPresent()) {
        Output m = tf.reshape(tf.slice(masks.get(), new int[] {t, 0, 0}, new int[] {1, -1, -1}), -1, 1);
        List<Output> kept = new ArrayList<>();
        for (int k = 0; k < next.size(); k++) {
          Output old = state.get(k);
          kept.add(tf.add(old, tf.mul(m, tf.sub(next.get(k), old))));
        }
        outputs.add(tf.mul(m, next.get(0)));
        state = kept;
      } else {
        outputs.add(next.get(0));
        state = next;
      }
    }
    if (steps == 0) {
      Output projected = cell.projectInputs(tf, tf.reshape(x, -1, cell.inputSize()));
      state = initialState.orElseThrow(() -> new IllegalArgumentException(
          "DynamicRnn: inputs '" + x.name() + "' have no time steps; give an initial state"));
      return new DynamicRnn.Result(tf.reshape(tf.slice(projected, new int[] {0, 0}, new int[] {-1, hidden}), 0, -1,
          hidden), state);
    }
    return new DynamicRnn.Result(tf.stack(outputs, 0), state);
  }

  private static DynamicRnn.Result lstm(Ops tf, LstmCell cell, Output x, Optional<Output> masks,
      Optional<List<Output>> initialState) {
    int steps = x.shape().dim(0);
    int hidden = cell.hiddenSize();
    Output projected = cell.projectInputs(tf, tf.reshape(x, -1, cell.inputSize()));
    if (steps == 0) {
      // No step: the batch size is unknown, so zero states cannot be made; the outputs are empty.
      List<Output> state = initialState.orElseThrow(() -> new IllegalArgumentException(
          "DynamicRnn: inputs '" + x.name() + "' have no time steps; give an initial state"));
      return new DynamicRnn.Result(tf.reshape(tf.slice(projected, new int[] {0, 0}, new int[] {-1, hidden}), 0, -1,
          hidden), state);
    }
    Output perStep = tf.reshape(projected, steps, -1, 4 * hidden);
    List<Output> state = initialState.orElseGet(() -> zeroState(tf, cell,
        tf.reshape(tf.slice(perStep, new int[] {0, 0, 0}, new int[] {1, -1, -1}), -1, 4 * hidden)));
    cell.weights().checkState(state, 2);
    LstmSequence.States s = LstmSequence.run(tf, perStep, cell.weights().wHh(), state.get(0), state.get(1), masks,
        cell.forgetBias(), hidden);
    Output outputs = masks.isPresent() ? tf.mul(masks.get(), s.hs()) : s.hs();
    int[] last = {steps - 1, 0, 0};
    int[] one = {1, -1, -1};
    return new DynamicRnn.Result(outputs, List.of(tf.reshape(tf.slice(s.hs(), last, one), -1, hidden),
        tf.reshape(tf.slice(s.cs(), last, one), -1, hidden)));
  }

  /** Zeros [B, hidden] with the batch size of the projected inputs [B', G*hidden], for each state tensor. */
  static List<Output> zeroState(Ops tf, RnnCell cell, Output projected) {
    int hidden = cell.hiddenSize();
    Output z = tf.zerosLike(tf.slice(projected, new int[] {0, 0}, new int[] {-1, hidden}));
    List<Output> zeros = new ArrayList<>();
    for (int k = 0; k < cell.stateCount(); k++) {
      zeros.add(z);
    }
    return List.copyOf(zeros);
  }
}
