package dev.kiln.train;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Variable;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A gradient-based optimizer, as TensorFlow 1.x's {@code tf.train.Optimizer}: {@link #minimize} adds the
 * gradient computation and the update to the graph and returns one operation that a Session runs once
 * per training step. State an optimizer keeps between steps (momentum, Adam's moments and step count)
 * lives in slot variables it creates under its own scope ({@code adam/linear/weight/m},
 * {@code adam/step}); build {@code globalVariablesInitializer()} after {@code minimize} so that it
 * initializes them too.
 *
 * <p>The learning rate is a number or a scalar float {@link Output} (a placeholder to feed a schedule).
 */
public abstract sealed class Optimizer permits GradientDescent, Momentum, Adam, RMSProp {
  private final String name;
  private final double learningRate;
  private final Optional<Output> learningRateOutput;

  Optimizer(String name, double learningRate) {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException(name + ": learning rate must be a positive number, got " + learningRate);
    }
    this.name = name;
    this.learningRate = learningRate;
    this.learningRateOutput = Optional.empty();
  }

  Optimizer(String name, Output learningRate) {
    if (!learningRate.dtype().isFloating() || !learningRate.shape().isCompatibleWith(Shape.scalar())) {
      throw new IllegalArgumentException(name + ": learning rate '" + learningRate.name()
          + "' must be a float scalar, got " + learningRate.type());
    }
    this.name = name;
    this.learningRate = Double.NaN;
    this.learningRateOutput = Optional.of(learningRate);
  }

  /** The base of this optimizer's scope name: {@code adam}, {@code momentum}, ... */
  public String name() {
    return name;
  }

  /** Minimizes {@code loss} over every floating-point variable it reads. */
  public Operation minimize(Output loss) {
    return minimize(loss, variablesRead(loss));
  }

  /** Minimizes {@code loss} over {@code vars}. */
  public Operation minimize(Output loss, List<Variable> vars) {
    if (!loss.dtype().isFloating()) {
      throw new IllegalArgumentException(
          name + ": loss '" + loss.name() + "' must be f32 or f64, got " + loss.dtype().shortName());
    }
    if (vars.isEmpty()) {
      throw new IllegalArgumentException(name + ": loss '" + loss.name() + "' reads no floating-point variable");
    }
    return loss.graph().atomically(() -> applyGradients(Gradients.of(loss, vars), vars));
  }

  /**
   * Adds the update of each variable by its gradient and returns an operation running them all; the
   * operation is named {@code <scope>/update}.
   */
  public Operation applyGradients(List<Output> grads, List<Variable> vars) {
    validate(grads, vars);
    Graph graph = vars.get(0).graph();
    return graph.atomically(() -> {
      Ops tf = Ops.create(graph).withSubScope(uniqueScope(graph, name));
      List<Operation> updates = build(tf, grads, vars);
      return tf.withName("update").group(updates.toArray(Operation[]::new));
    });
  }

  /** Adds the optimizer's state and update nodes; returns one update operation per variable. */
  abstract List<Operation> build(Ops tf, List<Output> grads, List<Variable> vars);

  /** The learning rate in {@code dtype}, as a constant or the given Output (cast when needed). */
  final Output learningRate(Ops tf, DType dtype) {
    if (learningRateOutput.isEmpty()) {
      return tf.constant(learningRate, dtype);
    }
    Output lr = learningRateOutput.get();
    return lr.dtype() == dtype ? lr : tf.cast(lr, dtype);
  }

  /** A zero-initialized slot variable shaped like {@code var}: {@code <scope>/<var>/<slot>}. */
  static Variable slot(Ops tf, Variable var, String slotName) {
    Ops s = tf.withSubScope(var.name());
    return s.variable(slotName, s.fill(var.shape(), s.constant(0, var.dtype())));
  }

  static Output scalar(Ops tf, double v, DType dtype) {
    return tf.constant(v, dtype);
  }

  private void validate(List<Output> grads, List<Variable> vars) {
    if (vars.isEmpty()) {
      throw new IllegalArgumentException(name + ".applyGradients: no variables");
    }
    if (grads.size() != vars.size()) {
      throw new IllegalArgumentException(name + ".applyGradients: " + grads.size() + " gradients for "
          + vars.size() + " variables");
    }
    Graph graph = vars.get(0).graph();
    Set<Variable> seen = new HashSet<>();
    for (int i = 0; i < vars.size(); i++) {
      Variable v = vars.get(i);
      Output g = grads.get(i);
      if (!seen.add(v)) {
        throw new IllegalArgumentException(name + ".applyGradients: variable '" + v.name() + "' is listed twice");
      }
      if (v.graph() != graph || g.graph() != graph) {
        throw new IllegalArgumentException(name + ".applyGradients: variable '" + v.name() + "' or its gradient '"
            + g.name() + "' belongs to another graph than variable '" + vars.get(0).name() + "'");
      }
      if (!v.dtype().isFloating()) {
        throw new IllegalArgumentException(name + ".applyGradients: variable '" + v.name()
            + "' is " + v.dtype().shortName() + "; only f32 and f64 variables can be trained");
      }
      if (g.dtype() != v.dtype() || !g.shape().isCompatibleWith(v.shape())) {
        throw new IllegalArgumentException(name + ".applyGradients: gradient '" + g.name() + "' is " + g.type()
            + " but variable '" + v.name() + "' is " + v.type());
      }
    }
    learningRateOutput.ifPresent(lr -> {
      if (lr.graph() != graph) {
        throw new IllegalArgumentException(
            name + ": learning rate '" + lr.name() + "' belongs to another graph than the variables");
      }
    });
  }

  /**
   * The floating-point variables whose values {@code loss} depends on, in creation order. Follows only
   * inputs that are read as values (not a Variable's initial value, not an Assign's target).
   */
  static List<Variable> variablesRead(Output loss) {
    List<Variable> all = loss.graph().variables();
    BitSet visited = new BitSet();
    Set<Operation> variableOps = new HashSet<>();
    List<Operation> stack = new ArrayList<>(List.of(loss.op()));
    while (!stack.isEmpty()) {
      Operation op = stack.remove(stack.size() - 1);
      if (visited.get(op.id())) {
        continue;
      }
      visited.set(op.id());
      if (op.type().equals("Variable")) {
        variableOps.add(op);
      }
      for (int i = 0; i < op.numInputs(); i++) {
        if (op.def().readsInput(i)) {
          stack.add(op.input(i).op());
        }
      }
    }
    return all.stream().filter(v -> variableOps.contains(v.op()) && v.dtype().isFloating()).toList();
  }

  /** The first of base, base_1, ... that no node uses as a top-level scope. */
  private static String uniqueScope(Graph graph, String base) {
    List<Operation> ops = graph.operations();
    for (int k = 0; ; k++) {
      String candidate = k == 0 ? base : base + "_" + k;
      if (ops.stream().noneMatch(op -> op.name().startsWith(candidate + "/"))) {
        return candidate;
      }
    }
  }
}
