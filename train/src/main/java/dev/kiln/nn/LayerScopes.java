package dev.kiln.nn;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import java.util.List;

/** Picks scope names unique per layer instance: {@code linear}, {@code linear_1}, ... */
final class LayerScopes {
  private LayerScopes() {}

  /**
   * The first of {@code base}, {@code base_1}, {@code base_2}, ... that no node of the graph uses as a
   * scope, at the top level or under an enclosing scope.
   */
  static String unique(Graph graph, String base) {
    List<Operation> ops = graph.operations();
    for (int k = 0; ; k++) {
      String candidate = k == 0 ? base : base + "_" + k;
      if (ops.stream().map(Operation::name).noneMatch(n -> usesScope(n, candidate))) {
        return candidate;
      }
    }
  }

  private static boolean usesScope(String nodeName, String scope) {
    return nodeName.startsWith(scope + "/") || nodeName.contains("/" + scope + "/");
  }

  /**
   * A default seed for a layer's random node: mixes the scope name with the graph's size, so that layers
   * of one graph differ (even under different enclosing scopes) and a rebuilt graph repeats them.
   */
  static long defaultSeed(Graph graph, String scopeName) {
    long h = scopeName.hashCode() * 0x9E3779B97F4A7C15L + graph.size();
    h ^= h >>> 31;
    return h * 0xBF58476D1CE4E5B9L;
  }

  /** The scope a layer's variable lives in: its name without the last part, and without enclosing scopes. */
  static String scopeOf(dev.kiln.graph.Variable v) {
    String n = v.name();
    String parent = n.substring(0, n.lastIndexOf('/'));
    return parent.substring(parent.lastIndexOf('/') + 1);
  }
}
