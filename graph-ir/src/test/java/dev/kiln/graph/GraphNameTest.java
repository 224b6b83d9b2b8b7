package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  @Test
  void everyExampleGraphFileParsesAndRoundTrips() throws java.io.IOException {
    List<Path> files;
    try (var s = Files.list(Path.of("../examples/graphs"))) {
      files = s.filter(p -> p.toString().endsWith(".kg")).sorted().toList();
    }
    assertTrue(files.size() >= 2, files.toString());
    for (Path f : files) {
      Graph g = Graph.parse(f);
      String text = Files.readString(f);
      String declared = text.substring(text.indexOf("graph") + 5, text.indexOf('{')).strip();
      assertEquals(declared, g.name(), f.toString());
      assertEquals(g.toText(), Graph.parse(g.toText()).toText(), f.toString());
    }
  }
}
