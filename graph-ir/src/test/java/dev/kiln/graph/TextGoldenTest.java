package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hand-written graph files parse and print to their hand-written normalized form. */
class TextGoldenTest {
  static {
    AnnotatedOp.register();
  }

  @ParameterizedTest
  @ValueSource(strings = {"two_layer", "constants", "fused", "fused_reduce", "layout"})
  void parsePrintsTheExpectedText(String name) throws IOException {
    Graph g = Graph.parse(resource(name + ".kg"), name + ".kg");
    String expected = resource(name + ".expected.kg");
    assertEquals(expected, g.toText());
    assertEquals(expected, Graph.parse(expected).toText(), "the normalized form is a fixed point");
  }

  @Test
  void twoLayerFileBuildsTheSameGraphAsTheOpsApi() throws IOException {
    Graph g = new Graph("two_layer");
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, 1000));
    Output y = tf.placeholder("y", DType.FLOAT32, Shape.of(-1, 10));
    Variable w1 = tf.variable("w1", tf.withName("w1/init").randomNormal(Shape.of(1000, 100), 1L));
    Variable w2 = tf.variable("w2", tf.withName("w2/init").randomNormal(Shape.of(100, 10), 2L));
    Output h = tf.withName("h").matmul(x, w1);
    Output relu = tf.withName("h_relu").maximum(h, tf.withName("zero").constant(0f));
    Output yPred = tf.withName("y_pred").matmul(relu, w2);
    Output sq = tf.withName("sq").square(tf.withName("diff").sub(yPred, y));
    tf.withName("loss").reduceSum(sq);
    tf.withName("init").globalVariablesInitializer();

    Graph parsed = Graph.parse(resource("two_layer.kg"));
    GraphAssert.assertSameGraph(g, parsed);
    assertEquals(g.toText(), parsed.toText());
    assertEquals(java.util.List.of("w1", "w2"), parsed.variables().stream().map(Output::name).toList());
    assertEquals("w1/Assign", parsed.variables().get(0).initializer().name());
  }

  @Test
  void theExampleFileIsTheGoldenOne() throws IOException {
    assertEquals(resource("two_layer.kg"), Files.readString(Path.of("../examples/graphs/two_layer.kg")));
  }

  static String resource(String name) throws IOException {
    try (InputStream in = TextGoldenTest.class.getResourceAsStream("/golden/" + name)) {
      if (in == null) {
        throw new IOException("missing test resource golden/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
