package dev.kiln.graph;

/** One output of an {@link Operation}: the symbolic value that edges carry and Sessions fetch. */
public sealed class Output permits Variable {
  private final Operation op;
  private final int index;

  Output(Operation op, int index) {
    this.op = op;
    this.index = index;
  }

  public Operation op() {
    return op;
  }

  public int index() {
    return index;
  }

  public TensorType type() {
    return op.outputType(index);
  }

  public DType dtype() {
    return type().dtype();
  }

  public Shape shape() {
    return type().shape();
  }

  /** The operation's name for output 0, {@code name:i} for others. */
  public String name() {
    return index == 0 ? op.name() : op.name() + ":" + index;
  }

  public Graph graph() {
    return op.graph();
  }

  @Override
  public String toString() {
    return op.type() + " '" + name() + "' " + type();
  }
}
