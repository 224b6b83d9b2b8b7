package dev.kiln.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The gradients of the built-in op types, each built only from graph ops so that it can itself be
 * differentiated. Broadcasting ops sum their gradients back to each input's shape (ReduceSumLike).
 */
final class BuiltinGradients {
  private BuiltinGradients() {}

  /** A gradient function of a single-output op, returning one (nullable, internal) entry per input. */
  @FunctionalInterface
  private interface Simple {
    Output[] apply(Ops tf, Operation op, Output g);
  }

  static void registerAll() {
    for (String t : List.of("StopGradient", "Sign", "ZerosLike", "OnesLike", "Less", "LessEqual", "Greater",
        "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "ArgMax", "OneHot")) {
      OpRegistry.registerGradient(t, GradientFunction.NONE);
    }
    simple("Identity", (tf, op, g) -> arr(g));
    simple("Neg", (tf, op, g) -> arr(tf.neg(g)));
    simple("Add", (tf, op, g) -> arr(unbroadcast(tf, g, x(op), op), unbroadcast(tf, g, y(op), op)));
    simple("Sub", (tf, op, g) -> arr(unbroadcast(tf, g, x(op), op), unbroadcast(tf, tf.neg(g), y(op), op)));
    simple("Mul", (tf, op, g) -> arr(
        unbroadcast(tf, tf.mul(g, y(op)), x(op), op), unbroadcast(tf, tf.mul(x(op), g), y(op), op)));
    simple("Div", (tf, op, g) -> arr(
        unbroadcast(tf, tf.div(g, y(op)), x(op), op),
        unbroadcast(tf, tf.neg(tf.mul(g, tf.div(tf.div(x(op), y(op)), y(op)))), y(op), op)));
    simple("Pow", BuiltinGradients::pow);
    simple("Maximum", (tf, op, g) -> minMax(tf, op, g, tf.greaterEqual(x(op), y(op))));
    simple("Minimum", (tf, op, g) -> minMax(tf, op, g, tf.lessEqual(x(op), y(op))));
    simple("Square", (tf, op, g) -> arr(tf.mul(g, tf.mul(x(op), scalar(tf, 2, op)))));
    simple("Sqrt", (tf, op, g) -> arr(tf.div(tf.mul(g, scalar(tf, 0.5, op)), out(op))));
    simple("Rsqrt", (tf, op, g) -> arr(
        tf.mul(g, tf.mul(scalar(tf, -0.5, op), tf.mul(out(op), tf.square(out(op)))))));
    simple("Reciprocal", (tf, op, g) -> arr(tf.neg(tf.mul(g, tf.square(out(op))))));
    simple("Exp", (tf, op, g) -> arr(tf.mul(g, out(op))));
    simple("Log", (tf, op, g) -> arr(tf.div(g, x(op))));
    simple("Sin", (tf, op, g) -> arr(tf.mul(g, tf.cos(x(op)))));
    simple("Cos", (tf, op, g) -> arr(tf.neg(tf.mul(g, tf.sin(x(op))))));
    simple("Abs", (tf, op, g) -> arr(tf.mul(g, tf.sign(x(op)))));
    simple("Relu", (tf, op, g) -> arr(
        tf.select(tf.greater(x(op), scalar(tf, 0, op)), g, tf.zerosLike(g))));
    simple("Sigmoid", (tf, op, g) -> arr(
        tf.mul(g, tf.mul(out(op), tf.sub(scalar(tf, 1, op), out(op))))));
    simple("Tanh", (tf, op, g) -> arr(tf.mul(g, tf.sub(scalar(tf, 1, op), tf.square(out(op))))));
    simple("Cast", (tf, op, g) -> arr(x(op).dtype().isFloating() && g.dtype().isFloating()
        ? tf.cast(g, x(op).dtype()) : null));
    simple("Select", (tf, op, g) -> {
      Output cond = op.input(0);
      Output zeros = tf.zerosLike(g);
      return arr(null, unbroadcast(tf, tf.select(cond, g, zeros), op.input(1), op),
          unbroadcast(tf, tf.select(cond, zeros, g), op.input(2), op));
    });
    simple("AddN", (tf, op, g) -> Collections.nCopies(op.numInputs(), g).toArray(Output[]::new));
    simple("MatMul", BuiltinGradients::matmul);
    simple("Softmax", (tf, op, g) -> {
      Output y = out(op);
      Output dot = tf.reduceSum(tf.mul(g, y), new int[] {softmaxAxis(op)}, true);
      return arr(tf.mul(tf.sub(g, dot), y));
    });
    simple("LogSoftmax", (tf, op, g) -> arr(
        tf.sub(g, tf.mul(tf.exp(out(op)), tf.reduceSum(g, new int[] {softmaxAxis(op)}, true)))));
    simple("Sum", (tf, op, g) -> arr(broadcastLike(tf, keepDims(tf, g, op), x(op))));
    simple("Mean", (tf, op, g) -> arr(tf.div(broadcastLike(tf, keepDims(tf, g, op), x(op)), count(tf, op))));
    simple("Max", BuiltinGradients::extremum);
    simple("Min", BuiltinGradients::extremum);
    simple("Prod", (tf, op, g) -> arr(
        tf.mul(keepDims(tf, g, op), tf.div(keepDims(tf, out(op), op), x(op)))));
    simple("ReduceSumLike", (tf, op, g) -> arr(broadcastLike(tf, g, x(op)), null));
    for (String t : List.of("Reshape", "ExpandDims", "Squeeze")) {
      simple(t, (tf, op, g) -> arr(tf.reshapeLike(g, x(op))));
    }
    simple("ReshapeLike", (tf, op, g) -> arr(tf.reshapeLike(g, x(op)), null));
    simple("Transpose", (tf, op, g) -> {
      int[] perm = op.attrs().getInts("perm");
      int[] inverse = new int[perm.length];
      for (int i = 0; i < perm.length; i++) {
        inverse[perm[i]] = i;
      }
      return arr(tf.transpose(g, inverse));
    });
    simple("Concat", BuiltinGradients::concat);
    simple("Slice", BuiltinGradients::slice);
    simple("Pad", BuiltinGradients::pad);
    simple("Fill", (tf, op, g) -> arr(tf.reduceSum(g)));
  }

  private static void simple(String type, Simple f) {
    OpRegistry.registerGradient(type, (tf, op, grads) -> {
      Optional<Output> g = grads.get(0);
      if (g.isEmpty()) {
        return Collections.nCopies(op.numInputs(), Optional.empty());
      }
      Output[] r = f.apply(tf, op, g.get());
      List<Optional<Output>> out = new ArrayList<>(r.length);
      for (Output o : r) {
        out.add(Optional.ofNullable(o));
      }
      return out;
    });
  }

  private static Output[] arr(Output... gs) {
    return gs;
  }

  private static Output x(Operation op) {
    return op.input(0);
  }

  private static Output y(Operation op) {
    return op.input(1);
  }

  private static Output out(Operation op) {
    return op.output(0);
  }

  /** A scalar constant of op's output dtype. */
  private static Output scalar(Ops tf, double v, Operation op) {
    return tf.constant(v, op.output(0).dtype());
  }

  /** g (of the broadcast shape) summed down to x's shape; no node when x cannot have been broadcast. */
  static Output unbroadcast(Ops tf, Output g, Output x, Operation op) {
    if ((g.shape().isFullyDefined() && g.shape().equals(x.shape())) || othersCannotStretch(x, op)) {
      return g;
    }
    return tf.reduceSumLike(g, x);
  }

  /**
   * True when op's output has x's shape whatever the unknown dimensions turn out to be: every other
   * input has a known rank no larger than x's and only dimensions of 1 (a scalar, a [1,1] bias).
   */
  private static boolean othersCannotStretch(Output x, Operation op) {
    Shape s = x.shape();
    if (!s.hasKnownRank()) {
      return false;
    }
    for (Output other : op.inputs()) {
      if (other == x) {
        continue;
      }
      Shape o = other.shape();
      if (!o.hasKnownRank() || o.rank() > s.rank() || java.util.Arrays.stream(o.dims()).anyMatch(d -> d != 1)) {
        return false;
      }
    }
    return true;
  }

  /** g broadcast up to x's shape (there is no BroadcastTo op: multiply by ones). */
  private static Output broadcastLike(Ops tf, Output g, Output x) {
    if (g.shape().isFullyDefined() && g.shape().equals(x.shape())) {
      return g;
    }
    return tf.mul(tf.onesLike(x), g);
  }

  private static Output[] pow(Ops tf, Operation op, Output g) {
    Output x = x(op);
    Output y = y(op);
    Output dx = tf.mul(g, tf.mul(y, tf.pow(x, tf.sub(y, scalar(tf, 1, op)))));
    // d/dy x^y = x^y log x, taken as 0 where x <= 0 (log undefined), as TensorFlow does; the safe
    // operand keeps log's own gradient finite there.
    Output positive = tf.greater(x, scalar(tf, 0, op));
    Output safeX = tf.select(positive, x, tf.onesLike(x));
    Output logX = tf.select(positive, tf.log(safeX), tf.zerosLike(x));
    Output dy = tf.mul(g, tf.mul(out(op), logX));
    return arr(unbroadcast(tf, dx, x, op), unbroadcast(tf, dy, y, op));
  }

  /** Maximum/Minimum: the gradient goes to x where {@code toX} holds (ties go to x), else to y. */
  private static Output[] minMax(Ops tf, Operation op, Output g, Output toX) {
    Output zeros = tf.zerosLike(g);
    return arr(unbroadcast(tf, tf.select(toX, g, zeros), x(op), op), unbroadcast(tf, tf.select(toX, zeros, g), y(op), op));
  }

  private static Output[] matmul(Ops tf, Operation op, Output g) {
    Output a = x(op);
    Output b = y(op);
    boolean ta = op.attrs().getBool("transpose_a", false);
    boolean tb = op.attrs().getBool("transpose_b", false);
    if (!ta && !tb) {
      return arr(tf.matmul(g, b, false, true), tf.matmul(a, g, true, false));
    } else if (!ta) {
      return arr(tf.matmul(g, b, false, false), tf.matmul(g, a, true, false));
    } else if (!tb) {
      return arr(tf.matmul(b, g, false, true), tf.matmul(a, g, false, false));
    } else {
      return arr(tf.matmul(b, g, true, true), tf.matmul(g, a, true, true));
    }
  }

  private static int softmaxAxis(Operation op) {
    return op.attrs().has("axis") ? op.attrs().getInt("axis") : -1;
  }

  /** A reduction's gradient (or value) g with the reduced axes put back as size-1 dimensions. */
  private static Output keepDims(Ops tf, Output g, Operation op) {
    if (op.attrs().getBool("keep_dims", false)) {
      return g;
    }
    Output x = x(op);
    int[] axes = op.attrs().getInts("axes");
    int rank = x.shape().rank();
    if (rank >= 0) {
      for (int i = 0; i < axes.length; i++) {
        axes[i] = axes[i] < 0 ? axes[i] + rank : axes[i];
      }
    } else if (Arrays.stream(axes).anyMatch(a -> a < 0)) {
      // Unknown rank and axes counted from the end: take the kept shape from a keep_dims reduction.
      return tf.reshapeLike(g, tf.reduceSum(x, axes, true));
    }
    Arrays.sort(axes);
    Output r = g;
    for (int a : axes) {
      r = tf.expandDims(r, a);
    }
    return r;
  }

  /** How many elements each output element of a Mean averages. */
  private static Output count(Ops tf, Operation op) {
    Shape s = x(op).shape();
    long n = 1;
    if (s.hasKnownRank()) {
      for (int a : op.attrs().getInts("axes")) {
        int d = s.dim(a < 0 ? a + s.rank() : a);
        if (d < 0) {
          n = -1;
          break;
        }
        n *= d;
      }
      if (n >= 0) {
        return scalar(tf, n, op);
      }
    }
    return tf.div(tf.reduceSum(tf.onesLike(x(op))), tf.reduceSum(tf.onesLike(out(op))));
  }

  /** Max/Min: the gradient goes to the extreme elements, shared equally among ties. */
  private static Output[] extremum(Ops tf, Operation op, Output g) {
    Output x = x(op);
    Output hits = tf.cast(tf.equal(x, keepDims(tf, out(op), op)), x.dtype());
    Output ties = tf.reduceSum(hits, op.attrs().getInts("axes"), true);
    return arr(tf.mul(tf.div(hits, ties), keepDims(tf, g, op)));
  }

  private static IllegalArgumentException needsShape(Operation op, String what) {
    return new IllegalArgumentException("gradients: the gradient of " + op + " needs " + what);
  }

  private static Output[] concat(Ops tf, Operation op, Output g) {
    int rank = op.output(0).shape().rank();
    if (rank < 0) {
      throw needsShape(op, "inputs of known rank");
    }
    int axis = op.attrs().getInt("axis");
    int k = axis < 0 ? axis + rank : axis;
    Output[] r = new Output[op.numInputs()];
    int offset = 0;
    for (int i = 0; i < r.length; i++) {
      Shape s = op.input(i).shape();
      int d = s.hasKnownRank() ? s.dim(k) : -1;
      if (d < 0) {
        throw needsShape(op, "the size of input " + i + " along axis " + k + ", which is unknown: " + s);
      }
      int[] begin = new int[rank];
      int[] size = new int[rank];
      Arrays.fill(size, -1);
      begin[k] = offset;
      size[k] = d;
      r[i] = tf.slice(g, begin, size);
      offset += d;
    }
    return r;
  }

  private static Output[] slice(Ops tf, Operation op, Output g) {
    int[] begin = op.attrs().getInts("begin");
    int[] size = op.attrs().getInts("size");
    Shape s = x(op).shape();
    int[] paddings = new int[2 * begin.length];
    for (int i = 0; i < begin.length; i++) {
      paddings[2 * i] = begin[i];
      if (size[i] >= 0) {
        int d = s.hasKnownRank() ? s.dim(i) : -1;
        if (d < 0) {
          throw needsShape(op, "dimension " + i + " of its input, which is unknown: " + s);
        }
        paddings[2 * i + 1] = d - begin[i] - size[i];
      }
    }
    return arr(tf.pad(g, paddings));
  }

  private static Output[] pad(Ops tf, Operation op, Output g) {
    int[] paddings = op.attrs().getInts("paddings");
    Shape s = x(op).shape();
    int[] begin = new int[paddings.length / 2];
    int[] size = new int[begin.length];
    for (int i = 0; i < begin.length; i++) {
      begin[i] = paddings[2 * i];
      int d = s.hasKnownRank() ? s.dim(i) : -1;
      if (d < 0 && paddings[2 * i + 1] != 0) {
        throw needsShape(op, "dimension " + i + " of its input, which is unknown: " + s);
      }
      size[i] = d;
    }
    return arr(tf.slice(g, begin, size));
  }
}
