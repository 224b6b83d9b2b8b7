package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.TensorArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The recurrence of {@link DynamicRnn} as a {@link Ops#whileLoop} over time-major inputs [T, B, in]
 * whose T may be known only when the graph runs. The inputs of all steps are projected with one
 * product before the loop; the loop carries the step counter, the cell's state and the outputs
 * [T, B, H] as a {@link TensorArray}: each iteration reads its projected input, steps the cell, and
 * writes its (masked) output at its step.
 */
final class LoopRecurrence {
  private LoopRecurrence() {}

  static DynamicRnn.Result run(Ops tf, RnnCell cell, Output x, Optional<Output> lengths,
      Optional<List<Output>> initialState) {
    DType dtype = x.dtype();
    int hidden = cell.hiddenSize();
    // Zeros [T, B, 1] from x, so that T may be unknown until the run.
    Output column = tf.zerosLike(tf.slice(x, new int[] {0, 0, 0}, new int[] {-1, -1, 1}));
    // Every step's input projection as one product before the loop (which also makes the weights
    // here: variables belong to the graph, not to the loop's body), reshaped to [T, B, G*H].
    Output flat = cell.projectInputs(tf, tf.reshape(x, -1, cell.inputSize()));
    int width = flat.shape().dim(1);
    int steps = x.shape().dim(0);
    // Without a known T the [T, B, G*H] shape comes from a zero tensor of that shape.
    Output projected = steps >= 0 ? tf.reshape(flat, steps, -1, width)
        : tf.reshapeLike(flat, tf.add(column, tf.fill(dev.kiln.graph.Shape.of(width), tf.constant(0, dtype))));
    Output zerosH = tf.fill(dev.kiln.graph.Shape.of(hidden), tf.constant(0, dtype));
    List<Output> state = initialState.orElseGet(() -> {
      Output z = tf.add(tf.reduceSum(column, new int[] {0}, false), zerosH);
      List<Output> zeros = new ArrayList<>();
      for (int k = 0; k < cell.stateCount(); k++) {
        zeros.add(z);
      }
      return zeros;
    });
    if (cell instanceof LstmCell lstm) {
      CellWeights.of(cell).checkState(state, 2);
      LstmLoop.States r = LstmLoop.run(tf, projected, lstm.weights().wHh(), state.get(0), state.get(1), lengths,
          lstm.forgetBias(), hidden);
      Output hs = r.hs();
      if (lengths.isPresent()) {
        // 0..T-1 as [T, 1], counted from the inputs.
        Output ones = tf.onesLike(tf.cast(tf.reshape(tf.slice(column, new int[] {0, 0, 0}, new int[] {-1, 1, 1}), -1),
            DType.INT32));
        Output time = tf.reshape(tf.cumsum(ones, 0, true, false), -1, 1);
        hs = tf.mul(hs, tf.expandDims(tf.cast(tf.less(time, tf.reshape(lengths.get(), 1, -1)), dtype), 2));
      }
      return new DynamicRnn.Result(hs, List.of(r.h(), r.c()));
    }
    TensorArray outputs = tf.tensorArray(tf.add(column, zerosH));
    TensorArray inputs = tf.tensorArray(projected);
    int n = state.size();
    List<Output> vars = new ArrayList<>();
    vars.add(tf.constant(0));
    vars.addAll(state);
    vars.add(outputs.flow());
    Output count = inputs.size();
    List<Output> done = tf.whileLoop(v -> tf.less(v.get(0), count), v -> {
      Output t = v.get(0);
      List<Output> s = v.subList(1, 1 + n);
      List<Output> next = cell.step(tf, inputs.read(t), s);
      Output out = next.get(0);
      List<Output> kept = next;
      if (lengths.isPresent()) {
        Output m = tf.reshape(tf.cast(tf.less(t, lengths.get()), dtype), -1, 1);
        kept = new ArrayList<>();
        for (int k = 0; k < n; k++) {
          kept.add(tf.add(s.get(k), tf.mul(m, tf.sub(next.get(k), s.get(k)))));
        }
        out = tf.mul(m, out);
      }
      List<Output> result = new ArrayList<>();
      result.add(tf.add(t, tf.constant(1)));
      result.addAll(kept);
      result.add(tf.tensorArray(v.get(1 + n)).write(t, out).flow());
      return result;
    }, vars);
    return new DynamicRnn.Result(done.get(1 + n), done.subList(1, 1 + n));
  }
}
