package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The recurrence of {@link DynamicRnn} on time-major inputs [T, B, in]: one input projection for all
 * steps, then the steps. Past an example's length a step keeps its state ({@code s + m (s' - s)} with
 * the step's 0/1 mask m) and outputs zeros, so the final state is the one after the example's last step.
 */
final class Recurrence {
  private Recurrence() {}

  static DynamicRnn.Result run(Ops tf, RnnCell cell, Output x, Optional<Output> lengths,
      Optional<List<Output>> initialState) {
    int steps = x.shape().dim(0);
    if (steps < 0) {
      throw new IllegalArgumentException("DynamicRnn: the time axis of inputs '" + x.name()
          + "' must have a known size, got " + x.shape());
    }
    int hidden = cell.hiddenSize();
    Output projected = cell.projectInputs(tf, tf.reshape(x, -1, cell.inputSize()));
    int width = projected.shape().dim(1);
    Output perStep = tf.reshape(projected, steps, -1, width);
    List<Output> state = initialState.orElseGet(() -> zeroState(tf, cell, perStep));
    Optional<Output> masks = lengths.map(len -> tf.expandDims(tf.cast(
        tf.less(tf.reshape(tf.range(steps), steps, 1), tf.reshape(len, 1, -1)), x.dtype()), 2));
    List<Output> outputs = new ArrayList<>();
    for (int t = 0; t < steps; t++) {
      Output xt = tf.reshape(tf.slice(perStep, new int[] {t, 0, 0}, new int[] {1, -1, -1}), -1, width);
      List<Output> next = cell.step(tf, xt, state);
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
      return new DynamicRnn.Result(tf.reshape(tf.slice(perStep, new int[] {0, 0, 0}, new int[] {0, -1, hidden}),
          0, -1, hidden), state);
    }
    return new DynamicRnn.Result(tf.stack(outputs, 0), state);
  }

  /** Zeros [B, hidden] with the batch size of the projected inputs, for each state tensor. */
  static List<Output> zeroState(Ops tf, RnnCell cell, Output perStep) {
    int hidden = cell.hiddenSize();
    Output z = tf.zerosLike(tf.reshape(tf.slice(perStep, new int[] {0, 0, 0}, new int[] {1, -1, hidden}), -1, hidden));
    List<Output> zeros = new ArrayList<>();
    for (int k = 0; k < cell.stateCount(); k++) {
      zeros.add(z);
    }
    return List.copyOf(zeros);
  }
}
