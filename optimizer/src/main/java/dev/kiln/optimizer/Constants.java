package dev.kiln.optimizer;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Optional;

/** Questions the rewrite passes ask about values of the graph being built. */
final class Constants {
  private Constants() {}

  /**
   * The value of {@code o} when it is a plain constant of the new graph: a Const output that is not
   * fed and whose node has no control inputs (so dropping a use of it drops no ordering or effect).
   */
  static Optional<Tensor> plainConstant(Values values, Output o) {
    if (!o.op().type().equals("Const") || !o.op().controlInputs().isEmpty() || values.isFed(o)) {
      return Optional.empty();
    }
    return Optional.of(o.op().attrs().getTensor("value"));
  }

  /** Every element equals {@code v} (NaN never does; -0.0 equals 0.0). */
  static boolean allEqual(Tensor t, double v) {
    if (t.dtype() == DType.BOOL) {
      return false;
    }
    for (int i = 0; i < t.size(); i++) {
      if (t.getDouble(i) != v) {
        return false;
      }
    }
    return true;
  }

  /** Every element is +0.0 (floats) or 0 (integers): x - c == x exactly, signed zeros included. */
  static boolean allPositiveZero(Tensor t) {
    for (int i = 0; i < t.size(); i++) {
      double d = t.getDouble(i);
      if (d != 0 || Double.doubleToRawLongBits(d) != 0) {
        return false;
      }
    }
    return t.dtype() != DType.BOOL;
  }

  /**
   * Whether broadcasting {@code c} against {@code x} leaves x's shape unchanged for every run-time
   * shape x may have: each dimension of c (aligned from the right) is 1 or equals a known dimension of x.
   */
  static boolean broadcastsInto(Shape c, Shape x) {
    if (c.hasKnownRank() && c.rank() == 0) {
      return true;
    }
    if (!c.hasKnownRank() || !x.hasKnownRank() || c.rank() > x.rank()) {
      return false;
    }
    int off = x.rank() - c.rank();
    for (int i = 0; i < c.rank(); i++) {
      int cd = c.dim(i);
      if (cd != 1 && (cd < 0 || cd != x.dim(off + i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The one value every element of {@code o} has, when the graph fixes it: a plain constant whose
   * elements are all equal, OnesLike (1), ZerosLike (+0), Fill of a plain scalar constant, or a view
   * (Identity, StopGradient, Reshape, ReshapeLike, ExpandDims, Squeeze) of one; none fed or with
   * control inputs. Never for bool values or NaN, and never where a rewrite that drops the value
   * would drop a random draw or an assign it depends on (OnesLike(y) with y drawn from a stream: the
   * stream would advance one draw less per run).
   */
  static Optional<Double> fillValue(Values values, Output o) {
    while (true) {
      Operation op = o.op();
      if (values.isFed(o) || !op.controlInputs().isEmpty() || o.dtype() == DType.BOOL) {
        return Optional.empty();
      }
      Primitive fill = Elementwise.primitive(op).orElse(null);
      if (fill == Primitive.ONES_LIKE || fill == Primitive.ZEROS_LIKE) {
        return dependsOnSideEffects(op) ? Optional.empty() : Optional.of(fill == Primitive.ONES_LIKE ? 1.0 : 0.0);
      }
      switch (op.type()) {
        case "Const" -> {
          Tensor t = op.attrs().getTensor("value");
          if (t.size() == 0 || Double.isNaN(t.getDouble(0))) {
            return Optional.empty();
          }
          double v = t.getDouble(0);
          return allEqual(t, v) && allSameBits(t) ? Optional.of(v) : Optional.empty();
        }
        case "Fill" -> {
          return dependsOnSideEffects(op) ? Optional.empty()
              : plainConstant(values, op.input(0)).filter(t -> !Double.isNaN(t.getDouble(0))).map(t -> t.getDouble(0));
        }
        case "ReshapeLike" -> {
          if (reachesSideEffect(new java.util.ArrayDeque<>(java.util.List.of(op.input(1).op())))) {
            return Optional.empty(); // the shape's source would be dropped with the value
          }
          o = op.input(0);
        }
        case "Identity", "StopGradient", "Reshape", "ExpandDims", "Squeeze" -> o = op.input(0);
        default -> {
          return Optional.empty();
        }
      }
    }
  }

  /**
   * Whether an input of {@code op} (through data and control inputs) comes from a node with an
   * effect: a random draw or an assign (a Variable read has none).
   */
  private static boolean dependsOnSideEffects(Operation op) {
    java.util.ArrayDeque<Operation> work = new java.util.ArrayDeque<>();
    op.inputs().forEach(in -> work.add(in.op()));
    work.addAll(op.controlInputs());
    return reachesSideEffect(work);
  }

  /** Whether a node of {@code work} or one of their ancestors has an effect (a Variable's initial value is not read). */
  private static boolean reachesSideEffect(java.util.ArrayDeque<Operation> work) {
    java.util.Set<Operation> seen = new java.util.HashSet<>();
    while (!work.isEmpty()) {
      Operation a = work.pop();
      if (!seen.add(a)) {
        continue;
      }
      if (a.def().traits().contains(dev.kiln.graph.OpTrait.STATEFUL) && !a.type().equals("Variable")) {
        return true;
      }
      if (!a.type().equals("Variable")) {
        a.inputs().forEach(in -> work.add(in.op()));
      }
      work.addAll(a.controlInputs());
    }
    return false;
  }

  /** Every element has the first one's bits (so +0.0 and -0.0 are told apart). */
  private static boolean allSameBits(Tensor t) {
    long first = Double.doubleToRawLongBits(t.getDouble(0));
    for (int i = 1; i < t.size(); i++) {
      if (Double.doubleToRawLongBits(t.getDouble(i)) != first) {
        return false;
      }
    }
    return true;
  }
}
