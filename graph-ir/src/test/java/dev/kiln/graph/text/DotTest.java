package dev.kiln.graph.text;

import dev.kiln.graph.Graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class DotTest {
  private static String golden(String name) throws IOException {
    try (var in = DotTest.class.getResourceAsStream("/golden/" + name)) {
      if (in == null) {
        throw new IOException("missing test resource golden/" + name);
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  @Test
  void nodesEdgesControlEdgesClustersAndDevices() throws IOException {
    Graph g = Graph.parse(golden("fused.kg"));
    String dot = g.toDot();
    List<String> lines = dot.lines().map(String::strip).toList();
    assertTrue(dot.startsWith("digraph \"fused\" {\n") && dot.endsWith("}\n"), dot);
    // Devices sorted, /cpu:0 gets the first palette colour and /gpu:0 the second.
    assertTrue(lines.contains("\"a\" [label=\"a\\nPlaceholder\\nf32[2,3]\\n/cpu:0\", fillcolor=\"#cfe2f3\"];"), dot);
    assertTrue(lines.contains("\"a\" -> \"bias_relu\" [label=\"f32[2,3]\"];"), dot);
    assertTrue(lines.contains("\"bias_relu\" -> \"done\" [style=dashed, arrowhead=odot];"), dot);
    assertTrue(lines.contains("\"a\" -> \"done\" [style=dashed, arrowhead=odot];"), dot);
    // The node that owns subgraphs is a cluster around itself and its bodies.
    int cluster = lines.indexOf("subgraph \"cluster_bias_relu\" {");
    assertTrue(cluster >= 0, dot);
    assertEquals("label=\"bias_relu: AddN\"; style=rounded; color=\"#666666\";", lines.get(cluster + 1));
    assertEquals("\"bias_relu\" [label=\"bias_relu\\nAddN\\nf32[2,3]\\n/gpu:0\", fillcolor=\"#d9ead3\"];",
        lines.get(cluster + 2));
    assertEquals("subgraph \"cluster_bias_relu#0/\" {", lines.get(cluster + 3));
    assertTrue(lines.contains("\"bias_relu#0/p0\" -> \"bias_relu#0/s\" [label=\"f32[2,3]\"];"), dot);
    assertTrue(lines.contains("\"bias_relu#0/r\" [label=\"r\\nRelu\\nf32[2,3]\"];"), dot);
    assertTrue(lines.contains("\"device /gpu:0\" [label=\"/gpu:0\", fillcolor=\"#d9ead3\"];"), dot);
  }

  @Test
  void quotesAreEscapedAndNodesWithoutDeviceKeepTheDefaultColour() {
    assertEquals("\"a\\\"b\\\\c\\nd\"", DotWriter.quote("a\"b\\c\nd"));
    Graph g = Graph.parse("graph { %x = Placeholder() {dtype = i32, shape = []}\n %n = NoOp() }");
    assertEquals("""
        digraph kiln {
          rankdir=TB;
          node [shape=box, style="rounded,filled", fillcolor="white", fontname="Helvetica", fontsize=10];
          edge [fontname="Helvetica", fontsize=9];
          "x" [label="x\\nPlaceholder\\ni32[]"];
          "n" [label="n\\nNoOp"];
        }
        """, g.toDot());
  }

  @Test
  void aNamedGraphKeepsItsNameInDot() {
    Graph g = Graph.parse("graph two_layer { %x = Placeholder() {dtype = f32, shape = [2]} }");
    assertTrue(g.toDot().startsWith("digraph \"two_layer\" {\n"), g.toDot());
    assertTrue(Graph.parse("graph { %x = Placeholder() {dtype = f32, shape = [2]} }").toDot()
        .startsWith("digraph kiln {\n"));
  }
}
