package dev.kiln.runtime.plan;

import dev.kiln.runtime.Session;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;

/** The checks every device makes on a run's feeds, fetches and targets before it compiles a plan. */
public final class Feeds {
  private Feeds() {}

  /** Fails unless {@code value}'s dtype is the fed output's and its shape fits every known dimension. */
  public static void check(Output fed, Tensor value) {
    TensorType want = fed.type();
    TensorType given = value.type();
    if (given.dtype() != want.dtype() || !want.shape().isCompatibleWith(given.shape())) {
      throw new IllegalArgumentException(fed.op().type() + " '" + fed.name() + "': fed " + given + ", expected " + want);
    }
  }

  /** Fails unless {@code op} is a node of {@code graph}; {@code what} names its role ("fetch", "target"). */
  public static void requireInGraph(Graph graph, Operation op, String what) {
    if (op.graph() != graph) {
      throw new IllegalArgumentException(what + " " + op + " belongs to another graph than this Session's");
    }
  }
}
