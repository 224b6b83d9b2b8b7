package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The ops defined by {@link ElementwiseOp}: attributes checked, the text format round trip, lowering
 * leaves only primitives, and each op's name is written in at most two main source files.
 */
class ElementwiseOpDefinitionTest {
  static final List<String> NEW_OPS = List.of("Erf", "Erfc", "Softplus", "Elu", "Selu", "LeakyRelu", "Log1p",
      "Expm1", "Floor", "Ceil", "Round", "Atan", "Tan", "Mod", "FloorDiv", "Clip");

  private static Graph sample() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 3));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(3));
    for (Output o : List.of(tf.erf(x), tf.erfc(x), tf.softplus(x), tf.elu(x), tf.selu(x), tf.leakyRelu(x),
        tf.leakyRelu(x, 0.5), tf.log1p(x), tf.expm1(x), tf.floor(x), tf.ceil(x), tf.round(x), tf.atan(x), tf.tan(x),
        tf.mod(x, y), tf.floorDiv(x, y), tf.clip(x, -1, 1))) {
      assertEquals(Shape.of(2, 3), o.shape());
    }
    return g;
  }

  @Test
  void textFormatRoundTrips() {
    Graph g = sample();
    String text = g.toText();
    for (String op : NEW_OPS) {
      assertTrue(text.contains(op), op);
    }
    assertEquals(text, Graph.parse(text).toText());
    // LeakyRelu's alpha gets its default, 0.2, as a built node's attribute.
    assertEquals(0.2, g.operation("LeakyRelu").attrs().getDouble("alpha"));
  }

  @Test
  void attributesAreChecked() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.opBuilder("LeakyRelu").addInput(x).setAttr("alpah", 0.1));
    assertEquals("LeakyRelu 'LeakyRelu': unknown attribute 'alpah' (did you mean 'alpha'?)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.opBuilder("Clip").addInput(x).setAttr("min", 0.0).build());
    assertEquals("Clip 'Clip': missing attribute 'max' (a float)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> tf.mod(tf.cast(x, DType.INT32), tf.cast(x, DType.INT32)));
    assertTrue(e.getMessage().startsWith("Mod 'Mod': input 0 must be "), e.getMessage());
  }

  @Test
  void loweringLeavesOnlyPrimitives() {
    Graph body = new Graph();
    Ops tf = Ops.create(body);
    Output p = body.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT64).setAttr("shape", Shape.of(4))
        .build().output(0);
    Output q = body.opBuilder("Parameter", "q").setAttr("dtype", DType.FLOAT64).setAttr("shape", Shape.of(4))
        .build().output(0);
    Output r = tf.add(tf.erf(tf.softplus(p)), tf.mod(p, q));
    Subgraph lowered = Elementwise.lower(new Subgraph(body, List.of(p, q), List.of(r)));
    for (Operation op : lowered.graph().operations()) {
      String t = op.type();
      assertTrue(t.equals("Parameter") || t.equals("Const") || Primitive.of(t).isPresent(), t);
    }
    assertEquals(2, lowered.parameters().size());
    assertEquals(Shape.of(4), lowered.results().get(0).shape());
  }

  /** Each new op's quoted name appears in at most two main source files (its definition and Ops). */
  @Test
  void eachNewOpIsNamedInAtMostTwoMainFiles() throws IOException {
    Path root = Path.of("").toAbsolutePath().getParent();
    List<Path> sources;
    try (Stream<Path> s = Files.walk(root)) {
      sources = s.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/"))
          .filter(f -> ElementwiseDispatchTest.ONNX.stream().noneMatch(x -> f.toString().contains(x))).toList();
    }
    for (String op : NEW_OPS) {
      List<Path> naming = sources.stream().filter(f -> read(f).contains("\"" + op + "\"")).toList();
      assertTrue(naming.size() <= 2, op + " is named in " + naming);
    }
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
