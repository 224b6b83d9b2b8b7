package dev.kiln.graph.text;

import dev.kiln.graph.*;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Graphviz DOT for a graph: a box per node labelled name, op type and output types; an edge per input
 * labelled with the type it carries; control edges dashed; a node that owns subgraphs drawn as a
 * cluster holding it and its bodies; each device its own fill colour, with a legend.
 */
public final class DotWriter {
  private static final List<String> PALETTE =
      List.of("#cfe2f3", "#d9ead3", "#fce5cd", "#ead1dc", "#fff2cc", "#d0e0e3", "#f4cccc", "#d9d2e9");

  private final StringBuilder sb = new StringBuilder();
  private final Map<String, String> deviceColours = new TreeMap<>();

  private DotWriter(Graph g) {
    TreeSet<String> devices = new TreeSet<>();
    collectDevices(g, devices);
    int i = 0;
    for (String d : devices) {
      deviceColours.put(d, PALETTE.get(i++ % PALETTE.size()));
    }
  }

  public static String write(Graph g) {
    DotWriter w = new DotWriter(g);
    // The graph's own name when it has one (as `kiln print` keeps it); "kiln" for an unnamed graph.
    w.sb.append("digraph ").append(g.name().isEmpty() ? "kiln" : quote(g.name())).append(" {\n")
        .append("  rankdir=TB;\n")
        .append("  node [shape=box, style=\"rounded,filled\", fillcolor=\"white\", fontname=\"Helvetica\", fontsize=10];\n")
        .append("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    w.graph(g, "", "  ");
    w.legend();
    return w.sb.append("}\n").toString();
  }

  private static void collectDevices(Graph g, TreeSet<String> into) {
    for (Operation op : g.operations()) {
      if (!op.device().isEmpty()) {
        into.add(op.device());
      }
      op.subgraphs().forEach(s -> collectDevices(s.graph(), into));
    }
  }

  /** Nodes and edges of {@code g}; ids are prefixed so that nested bodies do not clash. */
  private void graph(Graph g, String prefix, String indent) {
    for (Operation op : g.operations()) {
      String id = prefix + op.name();
      if (op.subgraphs().isEmpty()) {
        node(op, id, indent);
        continue;
      }
      sb.append(indent).append("subgraph ").append(quote("cluster_" + id)).append(" {\n");
      String inner = indent + "  ";
      sb.append(inner).append("label=").append(quote(op.name() + ": " + op.type())).append("; style=rounded; color=\"#666666\";\n");
      node(op, id, inner);
      for (int k = 0; k < op.subgraphs().size(); k++) {
        Subgraph s = op.subgraphs().get(k);
        String sub = id + "#" + k + "/";
        sb.append(inner).append("subgraph ").append(quote("cluster_" + sub)).append(" {\n");
        sb.append(inner).append("  label=").append(quote("subgraph " + k + " (" + s.parameters().size()
            + " in, " + s.results().size() + " out)")).append("; style=dashed;\n");
        graph(s.graph(), sub, inner + "  ");
        sb.append(inner).append("}\n");
      }
      sb.append(indent).append("}\n");
    }
    for (Operation op : g.operations()) {
      String to = quote(prefix + op.name());
      for (Output in : op.inputs()) {
        String label = (in.index() > 0 ? ":" + in.index() + " " : "") + in.type();
        sb.append(indent).append(quote(prefix + in.op().name())).append(" -> ").append(to)
            .append(" [label=").append(quote(label)).append("];\n");
      }
      for (Operation c : op.controlInputs()) {
        sb.append(indent).append(quote(prefix + c.name())).append(" -> ").append(to)
            .append(" [style=dashed, arrowhead=odot];\n");
      }
    }
  }

  private void node(Operation op, String id, String indent) {
    String types = String.join(", ", op.outputTypes().stream().map(TensorType::toString).toList());
    StringBuilder label = new StringBuilder(op.name()).append('\n').append(op.type());
    if (!types.isEmpty()) {
      label.append('\n').append(types);
    }
    if (!op.device().isEmpty()) {
      label.append('\n').append(op.device());
    }
    sb.append(indent).append(quote(id)).append(" [label=").append(quote(label.toString()));
    if (!op.device().isEmpty()) {
      sb.append(", fillcolor=").append(quote(deviceColours.get(op.device())));
    }
    sb.append("];\n");
  }

  private void legend() {
    if (deviceColours.isEmpty()) {
      return;
    }
    sb.append("  subgraph \"cluster_devices\" {\n    label=\"devices\"; style=dotted;\n");
    deviceColours.forEach((d, colour) -> sb.append("    ").append(quote("device " + d))
        .append(" [label=").append(quote(d)).append(", fillcolor=").append(quote(colour)).append("];\n"));
    sb.append("  }\n");
  }

  /** A DOT quoted string; newlines become DOT's centred line break. */
  static String quote(String s) {
    StringBuilder q = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> q.append("\\\"");
        case '\\' -> q.append("\\\\");
        case '\n' -> q.append("\\n");
        default -> q.append(c < 0x20 ? ' ' : c);
      }
    }
    return q.append('"').toString();
  }
}
