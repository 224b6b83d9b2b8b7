package dev.kiln.optimizer;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A golden test's program: a graph file whose header comments name the roots, MLIR-FileCheck style:
 * {@code // fetch: loss, h:1}, {@code // target: init}, {@code // feed: x, h} and, for multi-pass
 * tests, {@code // passes: fold,cse}. Without fetch and target lines the roots are the graph's sinks.
 * Printing writes the same header lines (for the rewritten program's roots) before the graph.
 */
final class GoldenProgram {
  private GoldenProgram() {}

  static Program parse(String text, String fileName) {
    Graph g = Graph.parse(text, fileName);
    List<String> fetch = directive(text, "fetch");
    List<String> target = directive(text, "target");
    List<String> feed = directive(text, "feed");
    Program sinks = Program.ofSinks(g);
    boolean explicit = text.contains("// fetch:") || text.contains("// target:");
    List<Output> fetches = explicit ? fetch.stream().map(g::output).toList() : sinks.fetches();
    List<Operation> targets = explicit ? target.stream().map(g::operation).toList() : sinks.targets();
    Set<Output> fed = new HashSet<>(feed.stream().map(g::output).toList());
    return new Program(g, fetches, targets, fed);
  }

  /** The names listed on a {@code // NAME: a, b} line, or none. */
  static List<String> directive(String text, String name) {
    List<String> out = new ArrayList<>();
    for (String line : text.lines().toList()) {
      String l = line.strip();
      if (l.startsWith("// " + name + ":")) {
        Arrays.stream(l.substring(name.length() + 4).split(","))
            .map(String::strip).filter(s -> !s.isEmpty()).forEach(out::add);
      }
    }
    return out;
  }

  static String print(Program p) {
    StringBuilder sb = new StringBuilder();
    if (!p.fetches().isEmpty()) {
      sb.append("// fetch: ").append(String.join(", ", p.fetches().stream().map(Output::name).toList())).append('\n');
    }
    if (!p.targets().isEmpty()) {
      sb.append("// target: ").append(String.join(", ", p.targets().stream().map(Operation::name).toList())).append('\n');
    }
    if (!p.fed().isEmpty()) {
      sb.append("// feed: ").append(String.join(", ", p.fed().stream().map(Output::name).sorted().toList())).append('\n');
    }
    return sb.append(p.graph().toText()).toString();
  }
}
