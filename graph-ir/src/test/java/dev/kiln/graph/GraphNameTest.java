package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A graph's name survives parsing and printing. */
class GraphNameTest {
  @Test
  void theNameIsPrintedBack() {
    String text = "graph two_layer {\n  %x = Placeholder() {dtype = f32, shape = [2]} : f32[2]\n}\n";
    Graph g = Graph.parse(text);
    assertEquals(text, g.toText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"two_layer", "\"odd name\"", "\"graph\"", "\"tab\\there\""})
  void namesRoundTrip(String spelled) {
    String text = "graph " + spelled + " {\n}\n";
    assertEquals(text, Graph.parse(text).toText());
    assertEquals(text, Graph.parse(Graph.parse(text).toText()).toText());
  }

  @Test
  void anUnnamedGraphStaysUnnamed() {
    assertEquals("graph {\n}\n", Graph.parse("graph {}").toText());
    assertTrue(new Graph().toText().startsWith("graph {"));
  }
}
