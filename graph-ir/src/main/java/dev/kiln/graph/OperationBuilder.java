package dev.kiln.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds one node: inputs, control inputs, attributes, subgraphs and device, then {@link #build()}
 * checks and infers it and appends it to the graph. Used by {@link Ops} and for user-defined ops.
 */
public final class OperationBuilder {
  private final Graph graph;
  private final String type;
  private String name;
  private boolean explicitName;
  private final List<Output> inputs = new ArrayList<>();
  private final List<Operation> controlInputs = new ArrayList<>();
  private final Attrs.Builder attrs = Attrs.builder();
  private final List<Subgraph> subgraphs = new ArrayList<>();
  private String device = "";

  OperationBuilder(Graph graph, String type, String name) {
    this.graph = graph;
    this.type = type;
    this.explicitName = name != null;
    this.name = name != null ? name : type;
  }

  /** Sets the automatic base name (suffixed if taken) instead of an explicit one. */
  OperationBuilder autoName(String base) {
    this.name = base;
    this.explicitName = false;
    return this;
  }

  public OperationBuilder addInput(Output input) {
    inputs.add(java.util.Objects.requireNonNull(input, () -> type + ": input " + inputs.size() + " is null"));
    return this;
  }

  public OperationBuilder addInputs(List<? extends Output> in) {
    java.util.Objects.requireNonNull(in, "addInputs: inputs is null");
    in.forEach(this::addInput);
    return this;
  }

  public OperationBuilder addControlInput(Operation op) {
    controlInputs.add(java.util.Objects.requireNonNull(op, () -> type + ": control input is null"));
    return this;
  }

  public OperationBuilder setAttr(String attr, Object value) {
    java.util.Objects.requireNonNull(value, () -> type + ": attribute '" + attr + "' is null");
    try {
      attrs.set(attr, value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(type + ": " + e.getMessage(), e);
    }
    return this;
  }

  public OperationBuilder setAttrs(Attrs a) {
    a.asMap().forEach(attrs::set);
    return this;
  }

  public OperationBuilder addSubgraph(Subgraph s) {
    subgraphs.add(java.util.Objects.requireNonNull(s, () -> type + ": subgraph is null"));
    return this;
  }

  public OperationBuilder setDevice(String d) {
    this.device = java.util.Objects.requireNonNull(d, () -> type + ": device is null (use \"\" for none)");
    return this;
  }

  public Operation build() {
    return graph.add(type, name, explicitName, inputs, controlInputs, attrs.build(), subgraphs, device);
  }
}
