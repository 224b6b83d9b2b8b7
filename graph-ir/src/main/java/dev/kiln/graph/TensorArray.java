package dev.kiln.graph;

import java.util.Objects;

/**
 * TensorFlow 1.x's {@code TensorArray} for building and reading sequences inside loops: a dense
 * tensor {@code [size, ...element]} (its {@link #flow}) with functional updates. A write returns a
 * new tensor array; inside {@link Ops#whileLoop} pass {@link #flow()} as a loop variable and rewrap
 * the body's argument with {@link Ops#tensorArray(Output)}:
 *
 * <pre>{@code
 * TensorArray outs = tf.tensorArray(DType.FLOAT32, steps, Shape.of(batch, hidden));
 * List<Output> r = tf.whileLoop(v -> tf.less(v.get(0), tf.constant(steps)), v -> {
 *   Output t = v.get(0);
 *   Output h = tf.tanh(tf.add(tf.matmul(inputs.read(t), w), tf.matmul(v.get(1), u)));
 *   return List.of(tf.add(t, tf.constant(1)), h, tf.tensorArray(v.get(2)).write(t, h).flow());
 * }, List.of(tf.constant(0), h0, outs.flow()));
 * Output all = tf.tensorArray(r.get(2)).stack();   // [steps, batch, hidden]
 * }</pre>
 *
 * Gradients flow through {@link #write} (to the written value and to the rest of the array) and
 * {@link #read}. The CPU runtime writes in place when the old array is dead, so a loop that writes
 * one element per iteration copies one element per iteration, not the array.
 */
public final class TensorArray {
  private final Ops tf;
  private final Output flow;

  TensorArray(Ops tf, Output flow) {
    this.tf = tf;
    this.flow = Objects.requireNonNull(flow, "TensorArray: flow is null");
    if (flow.shape().hasKnownRank() && flow.shape().rank() == 0) {
      throw new IllegalArgumentException("TensorArray: '" + flow.name() + "' is a scalar; a tensor array is a"
          + " tensor [size, ...element]");
    }
  }

  /** The dense tensor {@code [size, ...element]} this array is: what a loop carries. */
  public Output flow() {
    return flow;
  }

  public DType dtype() {
    return flow.dtype();
  }

  /** The elements' shape ({@code flow}'s shape without its first dimension). */
  public Shape elementShape() {
    Shape s = flow.shape();
    return s.hasKnownRank() ? Shape.of(java.util.Arrays.copyOfRange(s.dims(), 1, s.rank())) : Shape.unknown();
  }

  /** The number of elements when it is known when the graph is built, else -1. */
  public int staticSize() {
    return flow.shape().hasKnownRank() ? flow.shape().dim(0) : -1;
  }

  /** The number of elements as an int32 scalar. */
  public Output size() {
    if (staticSize() < 0) {
      return tf.cast(tf.reduceSum(tf.onesLike(tf.reduceSum(flow, tailAxes(), false))), DType.INT32);
    }
    return tf.constant(staticSize());
  }

  private int[] tailAxes() {
    int[] axes = new int[flow.shape().rank() - 1];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i + 1;
    }
    return axes;
  }

  /** This array with element {@code index} (an int32 or int64 scalar) replaced by {@code value}. */
  public TensorArray write(Output index, Output value) {
    Objects.requireNonNull(index, "TensorArray.write: index is null");
    Objects.requireNonNull(value, "TensorArray.write: value is null");
    return new TensorArray(tf, tf.opBuilder("TensorArrayWrite").addInput(flow).addInput(index).addInput(value)
        .build().output(0));
  }

  public TensorArray write(int index, Output value) {
    return write(tf.constant(index), value);
  }

  /** Element {@code index} (an int32 or int64 scalar). */
  public Output read(Output index) {
    Objects.requireNonNull(index, "TensorArray.read: index is null");
    return tf.opBuilder("TensorArrayRead").addInput(flow).addInput(index).build().output(0);
  }

  public Output read(int index) {
    return read(tf.constant(index));
  }

  /** All elements as one tensor {@code [size, ...element]}. */
  public Output stack() {
    return flow;
  }

  /** An array of this one's dtype holding {@code value}'s slices along axis 0. */
  public TensorArray unstack(Output value) {
    Objects.requireNonNull(value, "TensorArray.unstack: value is null");
    if (value.dtype() != flow.dtype() || !value.shape().isCompatibleWith(flow.shape())) {
      throw new IllegalArgumentException("TensorArray.unstack: value '" + value.name() + "' is " + value.type()
          + " but the tensor array is " + flow.type());
    }
    return new TensorArray(tf, value);
  }

  @Override
  public String toString() {
    return "TensorArray(" + flow + ")";
  }
}
