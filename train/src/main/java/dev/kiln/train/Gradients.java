package dev.kiln.train;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Variable;
import java.util.List;

/** The one place the training library asks autodiff for gradients. */
final class Gradients {
  private Gradients() {}

  /** d loss / d var for each var (zeros where no gradient flows, never null), built under the {@code gradients/} scope. */
  static List<Output> of(Output loss, List<Variable> vars) {
    return Ops.create(loss.graph()).gradients(loss, List.<Output>copyOf(vars));
  }
}
