package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;

/** Structural equality of graphs, node by node, with a message naming the first difference. */
final class GraphAssert {
  private GraphAssert() {}

  static void assertSameGraph(Graph expected, Graph actual) {
    assertSameGraph(expected, actual, "graph");
  }

  private static void assertSameGraph(Graph expected, Graph actual, String where) {
    List<Operation> e = expected.operations();
    List<Operation> a = actual.operations();
    assertEquals(names(e), names(a), where + ": node names");
    for (int i = 0; i < e.size(); i++) {
      Operation x = e.get(i);
      Operation y = a.get(i);
      String at = where + " node '" + x.name() + "'";
      assertEquals(x.type(), y.type(), at + ": op type");
      assertEquals(x.inputs().stream().map(Output::name).toList(), y.inputs().stream().map(Output::name).toList(),
          at + ": inputs");
      assertEquals(names(x.controlInputs()), names(y.controlInputs()), at + ": control inputs");
      assertEquals(x.attrs(), y.attrs(), at + ": attributes");
      assertEquals(x.outputTypes(), y.outputTypes(), at + ": output types");
      assertEquals(x.device(), y.device(), at + ": device");
      assertEquals(x.subgraphs().size(), y.subgraphs().size(), at + ": number of subgraphs");
      for (int k = 0; k < x.subgraphs().size(); k++) {
        Subgraph sx = x.subgraphs().get(k);
        Subgraph sy = y.subgraphs().get(k);
        String sub = at + " subgraph " + k;
        assertEquals(sx.parameters().stream().map(Output::name).toList(),
            sy.parameters().stream().map(Output::name).toList(), sub + ": parameters");
        assertEquals(sx.results().stream().map(Output::name).toList(),
            sy.results().stream().map(Output::name).toList(), sub + ": results");
        assertSameGraph(sx.graph(), sy.graph(), sub);
      }
    }
    assertEquals(expected.variables().stream().map(v -> v.initializer().name()).toList(),
        actual.variables().stream().map(v -> v.initializer().name()).toList(), where + ": variable initializers");
  }

  private static List<String> names(List<Operation> ops) {
    return ops.stream().map(Operation::name).toList();
  }

  /** Every op type used in the graph and its subgraphs, added to {@code into}. */
  static void collectTypes(Graph g, Set<String> into) {
    for (Operation op : g.operations()) {
      into.add(op.type());
      op.subgraphs().forEach(s -> collectTypes(s.graph(), into));
    }
  }
}
