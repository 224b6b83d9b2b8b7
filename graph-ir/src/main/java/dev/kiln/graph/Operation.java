package dev.kiln.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * A node of a {@link Graph}: an op type applied to input values and attributes, producing typed
 * outputs. Immutable once created; rewrites create new nodes or graphs.
 */
public final class Operation {
  private final Graph graph;
  private final int id;
  private final String name;
  private final OpDef def;
  private final List<Output> inputs;
  private final List<Operation> controlInputs;
  private final Attrs attrs;
  private final List<TensorType> outputTypes;
  private final List<Subgraph> subgraphs;
  private final String device;
  private final List<Output> outputs;
  /** Set when a failed {@link Graph#atomically} call removes this node; read by runs on other threads. */
  private volatile boolean rolledBack;

  Operation(Graph graph, int id, String name, OpDef def, List<Output> inputs, List<Operation> controlInputs,
      Attrs attrs, List<TensorType> outputTypes, List<Subgraph> subgraphs, String device) {
    this.graph = graph;
    this.id = id;
    this.name = name;
    this.def = def;
    this.inputs = List.copyOf(inputs);
    this.controlInputs = List.copyOf(controlInputs);
    this.attrs = attrs;
    this.outputTypes = List.copyOf(outputTypes);
    this.subgraphs = List.copyOf(subgraphs);
    this.device = device;
    List<Output> outs = new ArrayList<>(outputTypes.size());
    for (int i = 0; i < outputTypes.size(); i++) {
      outs.add(i == 0 && def.type().equals("Variable") ? new Variable(this) : new Output(this, i));
    }
    this.outputs = List.copyOf(outs);
  }

  public Graph graph() {
    return graph;
  }

  /** Position in the graph's creation order; inputs always have smaller ids. */
  public int id() {
    return id;
  }

  public String name() {
    return name;
  }

  /** The op type's name, e.g. {@code MatMul}. */
  public String type() {
    return def.type();
  }

  public OpDef def() {
    return def;
  }

  public List<Output> inputs() {
    return inputs;
  }

  public Output input(int i) {
    if (i < 0 || i >= inputs.size()) {
      throw new IndexOutOfBoundsException(this + " has no input " + i + " (it has " + inputs.size() + ")");
    }
    return inputs.get(i);
  }

  public int numInputs() {
    return inputs.size();
  }

  public List<Operation> controlInputs() {
    return controlInputs;
  }

  public Attrs attrs() {
    return attrs;
  }

  public List<Output> outputs() {
    return outputs;
  }

  public int numOutputs() {
    return outputs.size();
  }

  public Output output(int i) {
    if (i < 0 || i >= outputs.size()) {
      throw new IndexOutOfBoundsException(this + " has no output " + i + " (it has " + outputs.size() + ")");
    }
    return outputs.get(i);
  }

  public TensorType outputType(int i) {
    output(i); // the same clear bounds check as output(i)
    return outputTypes.get(i);
  }

  public List<TensorType> outputTypes() {
    return outputTypes;
  }

  public List<Subgraph> subgraphs() {
    return subgraphs;
  }

  /** The device this node was pinned to ({@code /gpu:0}, {@code /cpu:0}), or "" for none. */
  public String device() {
    return device;
  }

  /** Whether a failed {@link Graph#atomically} call removed this node from its graph. */
  boolean isRolledBack() {
    return rolledBack;
  }

  void markRolledBack() {
    rolledBack = true;
  }

  public boolean isStateful() {
    return def.isStateful();
  }

  @Override
  public String toString() {
    return type() + " '" + name + "'";
  }
}
