package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** print(g) parses back to an equal graph that prints to the same text, for random graphs of all op types. */
class TextRoundTripTest {
  @Test
  void randomGraphsOfEveryOpTypeRoundTripExactly() {
    Set<String> covered = new TreeSet<>();
    int subgraphs = 0;
    for (long seed = 1; seed <= 200; seed++) {
      Graph g = RandomGraphs.generate(seed, 40);
      String text = g.toText();
      Graph back;
      try {
        back = Graph.parse(text);
      } catch (GraphParseException e) {
        throw new AssertionError("seed " + seed + ": " + e.getMessage() + "\n" + text, e);
      }
      GraphAssert.assertSameGraph(g, back);
      assertEquals(text, back.toText(), "seed " + seed + ": printing the parsed graph");
      GraphAssert.collectTypes(g, covered);
      subgraphs += (int) g.operations().stream().filter(op -> !op.subgraphs().isEmpty()).count();
    }
    Set<String> missing = new TreeSet<>(RandomGraphs.builtinTypes());
    missing.removeAll(covered);
    assertEquals(Set.of(), missing, "built-in op types no random graph contained");
    assertTrue(subgraphs > 50, "nodes with subgraphs: " + subgraphs);
  }

  /** A user op with two outputs (x and -x), to print and read back {@code %s:1} and {@code (t, t)}. */
  private static final String SPLIT = "TextTestSplit";

  static {
    AnnotatedOp.register();
    OpRegistry.register(new OpDef() {
      @Override
      public String type() {
        return SPLIT;
      }

      @Override
      public int minInputs() {
        return 1;
      }

      @Override
      public int maxInputs() {
        return 1;
      }

      @Override
      public java.util.List<TensorType> infer(OpContext c) {
        return java.util.List.of(c.input(0), c.input(0));
      }
    });
  }

  @Test
  void userOpsWithSeveralOutputsRoundTrip() {
    String text = """
        graph {
          %x = Placeholder() {dtype = f64, shape = [?,2]} : f64[?,2]
          %s = TextTestSplit(%x) : (f64[?,2], f64[?,2])
          %y = Add(%s, %s:1) : f64[?,2]
        }
        """;
    Graph g = Graph.parse(text);
    assertEquals(java.util.List.of("s", "s:1"), g.operation("y").inputs().stream().map(Output::name).toList());
    assertEquals(text, g.toText());
    assertTrue(g.toDot().contains("\"s\" -> \"y\" [label=\":1 f64[?,2]\"];"), g.toDot());
    GraphParseException e = org.junit.jupiter.api.Assertions.assertThrows(GraphParseException.class,
        () -> Graph.parse(text.replace("(f64[?,2], f64[?,2])", "(f64[?,2], f32[?,2])")));
    assertEquals("3:39: TextTestSplit 's': declared type f32[?,2] for output 1 but inferred f64[?,2]", e.getMessage());
  }

  @Test
  void shortestDoublesAndSpecialFloatsRoundTripBitForBit() {
    double[] doubles = {0.1, -0.0, Double.MIN_VALUE, Double.MAX_VALUE, Math.PI, 1e-300, Double.NaN,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 5e-324, 9007199254740993.0};
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    for (double d : doubles) {
      tf.opBuilder(AnnotatedOp.TYPE).setAttr("v", d).build();
    }
    tf.constant(new float[] {Float.MIN_VALUE, -0f, Float.NaN, Float.NEGATIVE_INFINITY, 1f / 3, 3.4028235e38f});
    Graph back = Graph.parse(g.toText());
    for (int i = 0; i < doubles.length; i++) {
      double got = back.operations().get(i).attrs().getDouble("v");
      assertEquals(Double.doubleToLongBits(doubles[i]), Double.doubleToLongBits(got), "value " + doubles[i]);
    }
    float[] f = back.operations().get(doubles.length).attrs().getTensor("value").toFloatArray();
    assertEquals(Float.floatToIntBits(1f / 3), Float.floatToIntBits(f[4]));
    assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(f[1]));
    assertEquals(Float.MIN_VALUE, f[0]);
  }
}
