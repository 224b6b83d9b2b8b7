package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Malformed graph files: each gets one exact message at the position of the first problem. Each case
 * replaces line 4 of a valid three-node file (or the whole file when the line starts with '!').
 */
class TextParseErrorTest {
  private static final String HEAD = """
      graph g {
        %x = Placeholder() {dtype = f32, shape = [?, 3]} : f32[?,3]
        %w = Placeholder() {dtype = f32, shape = [3, 2]} : f32[3,2]
      """;

  private static String file(String line4) {
    return line4.startsWith("!") ? line4.substring(1).replace("\\n", "\n") : HEAD + line4 + "\n}\n";
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
      `  %y = MatMul(%x, %w {transpose_a = true})`   | bad.kg:4:22: expected ',' or ')' but found '{'
      `  %y = MatMull(%x, %w)`                       | bad.kg:4:8: unknown op type 'MatMull'
      `  %y = MatMul(%x, %v)`                        | bad.kg:4:19: no node named '%v'
      `  %y = MatMul(%x, %w) : f32[?,3]`             | bad.kg:4:25: MatMul 'y': declared type f32[?,3] but inferred f32[?,2]
      `  %y = MatMul(%w, %w)`                        | bad.kg:4:8: MatMul 'y': inner dimensions differ: [3,2] x [3,2]
      `  %y = MatMul(%x, %w) : (f32[?,2], f32[?,2])` | bad.kg:4:25: MatMul 'y' has 1 output, but 2 types are declared
      `  %x = Neg(%w)`                               | bad.kg:4:3: duplicate node name '%x', first defined at 2:3
      `  %y = Neg(%x:1)`                             | bad.kg:4:12: Placeholder 'x' has 1 output, so '%x:1' does not exist
      `  %y = Neg(%x, %w)`                           | bad.kg:4:8: Neg 'y': expects 1 input, got 2
      `  %y = Neg(%x) : f8[?,3]`                     | bad.kg:4:18: unknown dtype 'f8' (expected one of f32, f64, i32, i64, bool, f16, bf16, i8, u8, i16)
      `  %c = Const() {value = dense<i8[2]>[1, 200]}`           | bad.kg:4:41: value 200 is out of range for i8
      `  %c = Const() {value = dense<u8[1]>[-1]}`               | bad.kg:4:38: value -1 is out of range for u8
      `  %c = Const() {value = dense<i16[1]>"AAAA"}`            | bad.kg:4:38: dense<i16[1]> needs 2 bytes of data, got 3
      `  %y = Neg(%x) @"/gpu:0`                      | bad.kg:4:17: unterminated string
      `  %y = Neg(%x) & %w`                          | bad.kg:4:16: unexpected character '&'
      `  %y = Neg(%x) %w`                            | bad.kg:5:1: expected '=' but found '}'
      `  %y Neg(%x)`                                 | bad.kg:4:6: expected '=' but found 'Neg'
      `  %y = NoOp(^%x, %w)`                         | bad.kg:4:18: data input '%w' after control inputs (write control inputs last)
      `  %y = NoOp(^%x:0)`                           | bad.kg:4:14: a control input names a node, not an output: '^%x:0'
      `  %y:1 = Neg(%x)`                             | bad.kg:4:3: a node definition cannot name an output index: '%y:1'
      `  %c = Const() {value = dense<f32[2,2]>[1.0, 2.0, 3.0]}` | bad.kg:4:40: dense<f32[2,2]> needs 4 values, got 3
      `  %c = Const() {value = dense<i32[2]>[1, 2.5]}`          | bad.kg:4:42: expected an integer for a i32 value, got '2.5'
      `  %c = Const() {value = dense<f32[?]>[1.0]}`             | bad.kg:4:31: a dense value needs a fully defined shape, got f32[?]
      `  %c = Const() {value = dense<i32[2]>"AAAAAA=="}`        | bad.kg:4:38: dense<i32[2]> needs 8 bytes of data, got 4
      `  %c = Const() {value = dense<i32[2]>"AA*A"}`            | bad.kg:4:38: dense<i32[2]>: invalid base64 data
      `  %r = RandomNormal() {dtype = f32, shape = [2], seed = 99999999999999999999}` | bad.kg:4:57: integer 99999999999999999999 is out of range
      `  %p = Placeholder() {dtype = f32, shape = [-2, 3]}`     | bad.kg:4:45: dimension -2 is not a size (0 to 2147483647) or ?
      `  %p = Placeholder() {dtype = f32}`                      | bad.kg:4:8: Placeholder 'p': missing attribute 'shape' (a shape such as [2,?] or [*])
      `  %p = Placeholder() {dtype = f32, dtype = f64, shape = []}` | bad.kg:4:36: duplicate attribute 'dtype'
      `  %p = Placeholder() {dtype = float, shape = []}`        | bad.kg:4:31: unknown value 'float' (expected a number, a string, true, false, nan, inf, a dtype such as f32, a shape, array<...> or dense<...>)
      `  %p = Placeholder() {dtype = f32, shape = [], note = "a\\qb"}` | bad.kg:4:55: invalid escape '\\q' in string
      `  %p = Placeholder() {dtype = f32, shape = [3,}`         | bad.kg:4:47: expected '?' or an integer but found '}'
      `  %a = Neg(%b) : f32[2]\n  %b = Neg(%x)` | bad.kg:4:12: '%b' is used before its definition at 5:3 (nodes must come in topological order; a graph has no cycles)
      `  %a = Add(%x, %a)`                           | bad.kg:4:16: '%a' is used in its own definition (a graph has no cycles)
      `  %f = Identity(%x) : f32[?,3] subgraph (%q) -> () {\n    %q = Const() {value = dense<f32[]>[1.0]}\n  }` | bad.kg:4:42: subgraph parameter '%q' is Const 'q', not a Parameter
      `  %f = Identity(%x) : f32[?,3] subgraph (%p) -> (%nope) {\n    %p = Parameter() {dtype = f32, shape = []}\n  }` | bad.kg:4:50: no node named '%nope' in the subgraph
      `  %f = Identity(%x) : f32[2] subgraph () -> () {\n    %q = Nope()\n  }` | bad.kg:5:10: unknown op type 'Nope'
      `  %f = Identity(%x) : f32[2] subgraph () -> () {\n  }` | bad.kg:4:23: Identity 'f': declared type f32[2] but inferred f32[?,3]
      `  %f = Identity(%x) : f32[?,3] subgraph () -> () {\n    %q = Nope()\n  }` | bad.kg:5:10: unknown op type 'Nope'
      `!`                                            | bad.kg:1:1: expected 'graph' but found end of input
      `!graph g {\n  %x = Placeholder() {dtype = f32, shape = [2]}\n` | bad.kg:3:1: expected '}' or %name but found end of input
      `!graph g { } trailing`                        | bad.kg:1:13: expected end of input but found 'trailing'
      `!graph g {\n  %x = Placeholder() {dtype = f32 shape = [2]}\n}` | bad.kg:2:35: expected '}' or ',' but found 'shape'
      """)
  void reportsTheFirstProblemWithItsPosition(String line4, String message) {
    String text = file(line4.replace("\\n", "\n"));
    GraphParseException e = assertThrows(GraphParseException.class, () -> Graph.parse(text, "bad.kg"));
    assertEquals(message, e.getMessage());
    assertEquals(Optional.of("bad.kg"), e.file());
  }

  @Test
  void withoutAFileNameTheMessageStartsWithLineAndColumn() {
    GraphParseException e = assertThrows(GraphParseException.class,
        () -> Graph.parse(file("  %y = MatMul(%x, %w {transpose_a = true})")));
    assertEquals("4:22: expected ',' or ')' but found '{'", e.getMessage());
    assertEquals(4, e.line());
    assertEquals(22, e.column());
    assertEquals("expected ',' or ')' but found '{'", e.detail());
    assertEquals(Optional.empty(), e.file());
  }

  @Test
  void fileVariantNamesThePath(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path p = dir.resolve("two_layer.kg");
    java.nio.file.Files.writeString(p, "graph {\n  %x = Placeholder() {dtype = f32, shape = [2]}\n  %y = Neg(%x {\n}\n");
    GraphParseException e = assertThrows(GraphParseException.class, () -> Graph.parse(p));
    assertEquals(p + ":3:15: expected ',' or ')' but found '{'", e.getMessage());
  }
}
