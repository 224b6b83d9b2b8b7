package dev.kiln.graph;

import java.util.List;

/**
 * What an {@link OpDef} sees when a node is created: its type, name, inputs, attributes and owned
 * subgraphs. Inference
 * failures go through {@link #error}, which prefixes the op type and node name.
 */
public record OpContext(String opType, String nodeName, List<Output> inputs, Attrs attrs,
    List<Subgraph> subgraphs) {

  public OpContext(String opType, String nodeName, List<Output> inputs, Attrs attrs) {
    this(opType, nodeName, inputs, attrs, List.of());
  }

  public TensorType input(int i) {
    return inputs.get(i).type();
  }

  public DType dtype(int i) {
    return inputs.get(i).dtype();
  }

  public Shape shape(int i) {
    return inputs.get(i).shape();
  }

  public int numInputs() {
    return inputs.size();
  }

  /** An exception whose message reads {@code OpType 'node/name': message}. */
  public IllegalArgumentException error(String format, Object... args) {
    return new IllegalArgumentException(opType + " '" + nodeName + "': " + String.format(format, args));
  }
}
