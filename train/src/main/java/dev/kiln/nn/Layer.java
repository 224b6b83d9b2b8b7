package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.List;

/**
 * A layer: a graph builder that turns an input {@link Output} into an output, creating its variables
 * (if any) the first time it is applied and reusing them on later applications (weight sharing).
 * Nodes and variables are named under a scope unique to the layer instance, e.g. {@code linear/weight}
 * and {@code linear_1/weight}.
 */
public interface Layer {
  /** Adds the layer's computation on {@code x} to {@code tf}'s graph and returns its result. */
  Output apply(Ops tf, Output x);

  /** The variables an optimizer should train; empty before the first {@link #apply}. */
  default List<Variable> trainableVariables() {
    return List.of();
  }
}
