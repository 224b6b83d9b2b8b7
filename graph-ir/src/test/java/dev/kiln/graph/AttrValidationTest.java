package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attributes are checked against the op type's schema: an unknown name (with a suggestion for a near
 * miss), a value of the wrong type or a missing required attribute is an error naming the op type, the
 * node and the attribute; in text also its position.
 */
class AttrValidationTest {
  private static final String HEAD = """
      graph g {
        %x = Placeholder() {dtype = f32, shape = [2, 3]}
        %w = Placeholder() {dtype = f32, shape = [2, 3]}
      """;

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
      `  %h = MatMul(%x, %w) {transpos_a = true, transpose_b = false}` | bad.kg:4:24: MatMul 'h': unknown attribute 'transpos_a' (did you mean 'transpose_a'?)
      `  %h = MatMul(%x, %w) {transpose_a = true, transpose_B = true}` | bad.kg:4:44: MatMul 'h': unknown attribute 'transpose_B' (did you mean 'transpose_b'?)
      `  %h = MatMul(%x, %w) {alpha = 2.0}`                   | bad.kg:4:24: MatMul 'h': unknown attribute 'alpha' (MatMul takes transpose_a, transpose_b)
      `  %h = Neg(%x) {transpose_a = true}`                   | bad.kg:4:17: Neg 'h': unknown attribute 'transpose_a' (Neg takes no attributes)
      `  %h = MatMul(%x, %w) {transpose_a = 1}`               | bad.kg:4:38: MatMul 'h': attribute 'transpose_a' must be a bool (true or false), got an int: 1
      `  %h = MatMul(%x, %w) {transpose_a = "yes"}`           | bad.kg:4:38: MatMul 'h': attribute 'transpose_a' must be a bool (true or false), got a string: "yes"
      `  %s = Sum(%x) {axes = [0], keep_dims = false}`        | bad.kg:4:24: Sum 's': attribute 'axes' must be an int list such as array<0, 1>, got a shape: [0]
      `  %s = Sum(%x) {keepdims = true, axes = array<0>}`     | bad.kg:4:17: Sum 's': unknown attribute 'keepdims' (did you mean 'keep_dims'?)
      `  %s = Sum(%x) {keep_dims = true}`                     | bad.kg:4:8: Sum 's': missing attribute 'axes' (an int list such as array<0, 1>)
      `  %c = Cast(%x) {dtyp = i32}`                          | bad.kg:4:18: Cast 'c': unknown attribute 'dtyp' (did you mean 'dtype'?)
      `  %c = Cast(%x) {dtype = 3}`                           | bad.kg:4:26: Cast 'c': attribute 'dtype' must be a dtype such as f32 or i64, got an int: 3
      `  %a = ArgMax(%x) {axis = 1, output_type = f32}`       | bad.kg:4:44: ArgMax 'a': attribute 'output_type' must be one of i32, i64, got f32
      `  %p = Placeholder() {dtype = f32, shap = [2]}`        | bad.kg:4:36: Placeholder 'p': unknown attribute 'shap' (did you mean 'shape'?)
      `  %r = RandomNormal() {dtype = f32, shape = [2], seed = 1.5}` | bad.kg:4:57: RandomNormal 'r': attribute 'seed' must be an int, got a float: 1.5
      `  %q = FusedMatMul(%x, %w) {transpose_b = true, activation = "gelu"}` | bad.kg:4:62: FusedMatMul 'q': attribute 'activation' must be one of "none", "relu", "sigmoid", "tanh", got "gelu"
      `  %q = Gemm(%x, %w, %x) {transpose_b = true, alpha = inf}` | bad.kg:4:54: Gemm 'q': attribute 'alpha' must be a finite number, got inf
      """)
  void textReportsTheAttributeWithItsPosition(String line4, String message) {
    String text = HEAD + line4 + "\n}\n";
    GraphParseException e = assertThrows(GraphParseException.class, () -> Graph.parse(text, "bad.kg"));
    assertEquals(message, e.getMessage());
  }

  @Test
  void aMisspelledAttributeInTextIsNotIgnored() {
    // Square operands: without the transpose the product still type-checks, so ignoring the typo
    // would give a graph that silently computes x w instead of x^T w.
    String text = """
        graph g {
          %x = Placeholder() {dtype = f32, shape = [2, 2]}
          %w = Placeholder() {dtype = f32, shape = [2, 2]}
          %h = MatMul(%x, %w) {transpos_a = true, transpose_b = false}
        }
        """;
    GraphParseException e = assertThrows(GraphParseException.class, () -> Graph.parse(text, "sq.kg"));
    assertEquals("sq.kg:4:24: MatMul 'h': unknown attribute 'transpos_a' (did you mean 'transpose_a'?)",
        e.getMessage());
  }

  @Test
  void setAttrRejectsUnknownNamesAndWrongTypes() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("h").opBuilder("MatMul").addInput(x).addInput(x).setAttr("transpos_a", true));
    assertEquals("MatMul 'h': unknown attribute 'transpos_a' (did you mean 'transpose_a'?)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("h").opBuilder("MatMul").setAttr("transpose_a", 1));
    assertEquals("MatMul 'h': attribute 'transpose_a' must be a bool (true or false), got an int: 1", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("c").opBuilder("Cast").setAttr("dtype", "f32"));
    assertEquals("Cast 'c': attribute 'dtype' must be a dtype such as f32 or i64, got a string: \"f32\"",
        e.getMessage());
    assertEquals(1, g.size());
  }

  @Test
  void setAttrsIsCheckedToo() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 2));
    Attrs typo = Attrs.builder().set("transpose_a", true).set("tranpose_b", false).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("h").opBuilder("MatMul").addInput(x).addInput(x).setAttrs(typo).build());
    assertEquals("MatMul 'h': unknown attribute 'tranpose_b' (did you mean 'transpose_b'?)", e.getMessage());
    assertEquals(1, g.size());
  }

  @Test
  void buildRejectsAMissingRequiredAttribute() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(2, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("t").opBuilder("Transpose").addInput(x).build());
    assertEquals("Transpose 't': missing attribute 'perm' (an int list such as array<0, 1>)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> g.opBuilder("Placeholder", "p").setAttr("shape", Shape.of(2)).build());
    assertEquals("Placeholder 'p': missing attribute 'dtype' (a dtype such as f32 or i64)", e.getMessage());
    assertEquals(1, g.size());
  }

  @Test
  void defaultsAreFilledInAsTheOpHadAlwaysAssumed() {
    Graph g = Graph.parse(HEAD + """
          %h = MatMul(%x, %w) {transpose_b = true}
          %s = Softmax(%h)
          %a = ArgMax(%h) {axis = 0}
        }
        """);
    Attrs mm = g.operation("h").attrs();
    assertEquals(false, mm.getBool("transpose_a"));
    assertEquals(true, mm.getBool("transpose_b"));
    assertEquals(Shape.of(2, 2), g.operation("h").outputType(0).shape());
    assertEquals(-1L, g.operation("s").attrs().getLong("axis"));
    assertEquals(DType.INT64, g.operation("a").attrs().getDType("output_type"));
    assertEquals(g.toText(), Graph.parse(g.toText()).toText());
  }
}
