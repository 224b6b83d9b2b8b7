package dev.kiln.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds one node: inputs, control inputs, attributes, subgraphs and device, then {@link #build()}
 * checks and infers it and appends it to the graph. Used by {@link Ops} and for user-defined ops.
 * Attributes are checked against the op type's {@link OpDef#attrSchema} as they are set and again,
 * with defaults filled in and required ones demanded, when the node is built.
 */
public final class OperationBuilder {
  /**
   * How deep subgraphs may nest (a node owning a subgraph whose nodes own subgraphs ...): code that
   * walks a graph recurses into subgraphs, so the limit keeps it within a thread's stack.
   */
  public static final int MAX_SUBGRAPH_NESTING = 64;

  private final Graph graph;
  private final String type;
  private String name;
  private boolean explicitName;
  private final List<Output> inputs = new ArrayList<>();
  private final List<Operation> controlInputs = new ArrayList<>();
  private final Attrs.Builder attrs = Attrs.builder();
  private final List<Subgraph> subgraphs = new ArrayList<>();
  private String device = "";
  /** Whether every attribute set so far was checked against the op type's schema as it was set. */
  private boolean attrsChecked = true;
  /** The node's name for messages, made once rather than per attribute. */
  private final java.util.function.Supplier<String> nameForMessages = this::nodeName;

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

  /**
   * Sets an attribute; fails if the op type's schema does not declare {@code attr} (suggesting a
   * declared name it is close to) or declares another type for it.
   */
  public OperationBuilder setAttr(String attr, Object value) {
    java.util.Objects.requireNonNull(attr, () -> type + ": attribute name is null");
    java.util.Objects.requireNonNull(value, () -> type + ": attribute '" + attr + "' is null");
    Object v;
    try {
      v = Attrs.normalize(attr, value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(type + ": " + e.getMessage(), e);
    }
    setNormalized(attr, v);
    return this;
  }

  /** Sets each of {@code a}'s attributes as {@link #setAttr} does. */
  public OperationBuilder setAttrs(Attrs a) {
    java.util.Objects.requireNonNull(a, () -> type + ": attributes are null");
    // An Attrs holds normalized values already: only the schema check is left.
    a.asMap().forEach(this::setNormalized);
    return this;
  }

  /** Checks a normalized value against the op type's schema and sets it. */
  private void setNormalized(String attr, Object v) {
    // An unknown op type has no schema: build() reports it.
    OpDef def = OpRegistry.find(type).orElse(null);
    if (def != null) {
      def.attrSchema().check(type, nameForMessages, attr, v);
    } else {
      attrsChecked = false;
    }
    attrs.setNormalized(attr, v);
  }

  public OperationBuilder addSubgraph(Subgraph s) {
    subgraphs.add(java.util.Objects.requireNonNull(s, () -> type + ": subgraph is null"));
    return this;
  }

  /**
   * Where the node should run: {@code ""} (wherever placement puts it), {@code "/cpu:N"} or
   * {@code "/gpu:N"}, TensorFlow's short device names. Anything else is an error here, not a node
   * that placement would silently treat as unplaced.
   */
  public OperationBuilder setDevice(String d) {
    java.util.Objects.requireNonNull(d, () -> type + ": device is null (use \"\" for none)");
    if (!d.isEmpty() && !DEVICE_NAME.matcher(d).matches()) {
      throw new IllegalArgumentException(type + " '" + nodeName() + "': device \"" + d
          + "\" is not a device name: use \"/cpu:N\", \"/gpu:N\" or \"\" (any)");
    }
    this.device = d;
    return this;
  }

  private static final java.util.regex.Pattern DEVICE_NAME = java.util.regex.Pattern.compile("/(cpu|gpu):[0-9]{1,4}");

  public Operation build() {
    Attrs complete = OpRegistry.get(type).attrSchema().complete(type, nameForMessages, attrs.build(), attrsChecked);
    for (Subgraph s : subgraphs) {
      if (s.graph().subgraphNesting() >= MAX_SUBGRAPH_NESTING) {
        throw new IllegalArgumentException(type + " '" + nodeName() + "': subgraphs nested more than "
            + MAX_SUBGRAPH_NESTING + " deep");
      }
    }
    return graph.add(type, name, explicitName, inputs, controlInputs, complete, subgraphs, device);
  }

  /** The name the node would get if it were built now, for messages. */
  String nodeName() {
    return explicitName ? name : graph.nextAutoName(name);
  }
}
