package dev.kiln.graph;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The ops behind {@link TensorArray}: a tensor array is a dense tensor {@code [size, ...element]}, and
 * <ul>
 *   <li>{@code TensorArrayWrite(ta, index, value)}: {@code ta} with slice {@code index} replaced by
 *       {@code value} (a functional update; the CPU runtime does it in place when {@code ta} dies there);
 *   <li>{@code TensorArrayRead(ta, index)}: slice {@code index} of {@code ta};
 *   <li>{@code TensorArrayAccumulate(ta, index, value)}: {@code ta} with {@code value} added to slice
 *       {@code index} (float only): how a loop's gradient sums what each iteration read from a tensor
 *       array, one element at a time rather than a whole array per iteration.
 * </ul>
 * The index is an int32 or int64 scalar; one out of range fails the run naming the node.
 */
final class TensorArrayOps {
  private TensorArrayOps() {}

  static void define(List<OpDef> defs) {
    defs.add(new DefinedOp("TensorArrayWrite", 3, 3, AttrSchema.none(), TensorArrayOps::write,
        Optional.of(TensorArrayOps::writeGradient)));
    defs.add(new DefinedOp("TensorArrayRead", 2, 2, AttrSchema.none(), TensorArrayOps::read,
        Optional.of(TensorArrayOps::readGradient)));
    defs.add(new DefinedOp("TensorArrayAccumulate", 3, 3, AttrSchema.none(), c -> {
      Infer.dtypeIn(c, 0, Infer.FLOAT);
      return write(c);
    }, Optional.of(TensorArrayOps::accumulateGradient)));
    // Element index of a stack a While recorded (ControlFlowOp.NUM_STACKED): what a loop's gradient reads.
    defs.add(new DefinedOp("StackRead", 2, 2, AttrSchema.none(), TensorArrayOps::read,
        Optional.of(TensorArrayOps::stackReadGradient)));
  }

  private static List<TensorType> write(OpContext c) {
    Shape element = element(c);
    if (c.dtype(2) != c.dtype(0)) {
      throw c.error("value '%s' is %s but the tensor array '%s' holds %s", c.inputs().get(2).name(),
          c.dtype(2).shortName(), c.inputs().get(0).name(), c.dtype(0).shortName());
    }
    if (!c.shape(2).isCompatibleWith(element)) {
      throw c.error("value '%s' has shape %s but the tensor array '%s' %s holds elements of shape %s",
          c.inputs().get(2).name(), c.shape(2), c.inputs().get(0).name(), c.shape(0), element);
    }
    Shape merged = c.shape(2).mergeWith(element);
    Shape ta = c.shape(0);
    if (ta.hasKnownRank()) {
      int[] dims = new int[ta.rank()];
      dims[0] = ta.dim(0);
      System.arraycopy(merged.dims(), 0, dims, 1, dims.length - 1);
      ta = Shape.of(dims);
    } else if (merged.hasKnownRank()) {
      int[] dims = new int[merged.rank() + 1];
      dims[0] = -1;
      System.arraycopy(merged.dims(), 0, dims, 1, merged.rank());
      ta = Shape.of(dims);
    }
    return Infer.one(c.dtype(0), ta);
  }

  private static List<TensorType> read(OpContext c) {
    return Infer.one(c.dtype(0), element(c));
  }

  /** The element shape of input 0 after checking the index (input 1). */
  private static Shape element(OpContext c) {
    Infer.dtypeIn(c, 1, Infer.INTEGER);
    Shape idx = c.shape(1);
    if (idx.hasKnownRank() && idx.rank() != 0) {
      throw c.error("index '%s' must be a scalar, got %s", c.inputs().get(1).name(), idx);
    }
    Shape ta = c.shape(0);
    if (!ta.hasKnownRank()) {
      return Shape.unknown();
    }
    if (ta.rank() == 0) {
      throw c.error("tensor array '%s' must have rank >= 1 ([size, ...element]), got a scalar",
          c.inputs().get(0).name());
    }
    return Shape.of(Arrays.copyOfRange(ta.dims(), 1, ta.rank()));
  }

  private static List<Optional<Output>> writeGradient(Ops tf, Operation op, List<Optional<Output>> grads) {
    if (grads.get(0).isEmpty()) {
      return List.of(Optional.empty(), Optional.empty(), Optional.empty());
    }
    Output g = grads.get(0).get();
    Output rest = tf.opBuilder("TensorArrayWrite").addInput(g).addInput(op.input(1))
        .addInput(tf.zerosLike(op.input(2))).build().output(0);
    Output value = tf.opBuilder("TensorArrayRead").addInput(g).addInput(op.input(1)).build().output(0);
    return List.of(Optional.of(rest), Optional.empty(), Optional.of(value));
  }

  /**
   * A loop gradient's read of its forward stacks, differentiated when the loop's gradient is: element
   * {@code index} of the stack gets the gradient. The While gradient that owns the read recognizes this
   * form and pushes the element's gradient onto a stack of its own rather than building the dense
   * tensor (a stack is no tensor at run time).
   */
  private static List<Optional<Output>> stackReadGradient(Ops tf, Operation op, List<Optional<Output>> grads) {
    if (grads.get(0).isEmpty()) {
      return List.of(Optional.empty(), Optional.empty());
    }
    Output ta = tf.opBuilder("TensorArrayWrite").addInput(tf.zerosLike(op.input(0))).addInput(op.input(1))
        .addInput(grads.get(0).get()).build().output(0);
    return List.of(Optional.of(ta), Optional.empty());
  }

  private static List<Optional<Output>> accumulateGradient(Ops tf, Operation op, List<Optional<Output>> grads) {
    if (grads.get(0).isEmpty()) {
      return List.of(Optional.empty(), Optional.empty(), Optional.empty());
    }
    Output g = grads.get(0).get();
    Output value = tf.opBuilder("TensorArrayRead").addInput(g).addInput(op.input(1)).build().output(0);
    return List.of(Optional.of(g), Optional.empty(), Optional.of(value));
  }

  private static List<Optional<Output>> readGradient(Ops tf, Operation op, List<Optional<Output>> grads) {
    if (grads.get(0).isEmpty()) {
      return List.of(Optional.empty(), Optional.empty());
    }
    Output ta = tf.opBuilder("TensorArrayWrite").addInput(tf.zerosLike(op.input(0))).addInput(op.input(1))
        .addInput(grads.get(0).get()).build().output(0);
    return List.of(Optional.of(ta), Optional.empty());
  }
}
