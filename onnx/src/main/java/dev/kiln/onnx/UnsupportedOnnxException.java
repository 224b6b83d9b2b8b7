package dev.kiln.onnx;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The model uses what the importer does not support: operators it has no mapping for, or an element
 * type, attribute value or operator set outside what it maps. {@link #operators()} lists every
 * unsupported operator type with the names of its nodes, so that one run reports all of them.
 */
public final class UnsupportedOnnxException extends OnnxImportException {
  private final Map<String, List<String>> operators;

  public UnsupportedOnnxException(String message) {
    this(message, Map.of());
  }

  UnsupportedOnnxException(String message, Map<String, List<String>> operators) {
    super(message);
    this.operators = Map.copyOf(operators);
  }

  /** Unsupported operator type to the names of the nodes that use it (empty for other causes). */
  public Map<String, List<String>> operators() {
    return operators;
  }

  static UnsupportedOnnxException ofOperators(String file, Map<String, List<String>> ops) {
    int nodes = ops.values().stream().mapToInt(List::size).sum();
    String list = ops.entrySet().stream()
        .map(e -> e.getKey() + " x" + e.getValue().size() + " (" + String.join(", ", e.getValue()) + ")")
        .collect(Collectors.joining("; "));
    return new UnsupportedOnnxException(file + ": " + nodes + " node(s) of " + ops.size()
        + " unsupported operator type(s): " + list, ops);
  }
}
