package dev.kiln.graph;

/**
 * A variable: state that a Session keeps across runs. As an {@link Output} it reads the variable's
 * current value; {@link #initializer()} sets it to its initial value.
 */
public final class Variable extends Output {
  Variable(Operation op) {
    super(op, 0);
  }

  /** The value the variable is initialized with (input 0 of the Variable node). */
  public Output initialValue() {
    return op().input(0);
  }

  /** The Assign node that sets the variable to its initial value. */
  public Operation initializer() {
    return graph().initializerOf(this);
  }
}
