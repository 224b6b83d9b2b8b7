package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutations of valid graph files (characters and tokens deleted, inserted, duplicated,
 * swapped): the parser either succeeds, with a graph that round-trips, or throws a
 * GraphParseException whose position lies inside the text. Nothing else may escape.
 */
class TextFuzzTest {
  private static final Pattern TOKEN = Pattern.compile("%[A-Za-z0-9_.\\-/]+(:[0-9]+)?|-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?"
      + "|[A-Za-z_][A-Za-z0-9_]*|\"(\\\\.|[^\"\\\\])*\"|->|\\S");
  private static final String CHARS = "%=(){}[]<>,:^@?*\"\\-.0123456789azAZ_/ \n\t#é";
  private static final List<String> WORDS = List.of("graph", "subgraph", "dense", "array", "f32", "i64", "bool",
      "true", "nan", "-inf", "Placeholder", "MatMul", "Const", "Variable", "Parameter", "NoOp", "%x", "%w1:1",
      "^%x", "[?,3]", "[*]", "dense<f32[2]>[1.0, 2.0]", "dense<i32[17]>\"AAAA\"", "array<1, -1>", "99999999999999999999",
      "2147483648", ": ()", "(f32[2], i32[])");

  @Test
  void mutatedFilesFailOnlyWithGraphParseException() throws IOException {
    List<String> seeds = new ArrayList<>();
    for (String name : List.of("two_layer", "constants", "fused", "layout")) {
      seeds.add(TextGoldenTest.resource(name + ".kg"));
    }
    for (long s = 1; s <= 4; s++) {
      seeds.add(RandomGraphs.generate(1000 + s, 25).toText());
    }
    Random rnd = new Random(20261123);
    int parsed = 0;
    int failed = 0;
    for (int i = 0; i < 4000; i++) {
      String base = seeds.get(i % seeds.size());
      String text = base;
      for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
        text = mutate(text, rnd);
      }
      try {
        Graph g = Graph.parse(text, "fuzz.kg");
        assertEquals(g.toText(), Graph.parse(g.toText()).toText(), "mutation " + i + " parsed but does not round-trip");
        parsed++;
      } catch (GraphParseException e) {
        checkPosition(e, text, i);
        failed++;
      } catch (RuntimeException | StackOverflowError e) {
        throw new AssertionError("mutation " + i + " threw " + e + " for:\n" + text, e);
      }
    }
    assertTrue(parsed > 100 && failed > 2000, "parsed " + parsed + ", failed " + failed);
  }

  private static void checkPosition(GraphParseException e, String text, int i) {
    String[] lines = text.split("\n", -1);
    boolean inside = e.line() >= 1 && e.line() <= lines.length && e.column() >= 1
        && e.column() <= lines[e.line() - 1].length() + 1;
    assertTrue(inside, "mutation " + i + ": position of " + e.getMessage() + " is outside the text:\n" + text);
    assertTrue(e.getMessage().startsWith("fuzz.kg:" + e.line() + ":" + e.column() + ": "), e.getMessage());
    assertTrue(!e.detail().isBlank() && !e.detail().contains("null"), "mutation " + i + ": " + e.getMessage());
  }

  private static String mutate(String text, Random rnd) {
    if (text.isEmpty()) {
      return WORDS.get(rnd.nextInt(WORDS.size()));
    }
    int at = rnd.nextInt(text.length());
    List<int[]> tokens = tokens(text);
    int[] tok = tokens.get(rnd.nextInt(tokens.size()));
    return switch (rnd.nextInt(8)) {
      case 0 -> text.substring(0, at) + text.substring(at + 1);
      case 1 -> text.substring(0, at) + CHARS.charAt(rnd.nextInt(CHARS.length())) + text.substring(at);
      case 2 -> at + 1 < text.length()
          ? text.substring(0, at) + text.charAt(at + 1) + text.charAt(at) + text.substring(at + 2) : text;
      case 3 -> text.substring(0, tok[0]) + text.substring(tok[1]);
      case 4 -> text.substring(0, tok[1]) + " " + text.substring(tok[0], tok[1]) + text.substring(tok[1]);
      case 5 -> {
        int[] other = tokens.get(rnd.nextInt(tokens.size()));
        int[] a = tok[0] <= other[0] ? tok : other;
        int[] b = tok[0] <= other[0] ? other : tok;
        yield a[1] > b[0] ? text : text.substring(0, a[0]) + text.substring(b[0], b[1])
            + text.substring(a[1], b[0]) + text.substring(a[0], a[1]) + text.substring(b[1]);
      }
      case 6 -> text.substring(0, tok[0]) + WORDS.get(rnd.nextInt(WORDS.size())) + text.substring(tok[1]);
      default -> text.substring(0, at) + " " + WORDS.get(rnd.nextInt(WORDS.size())) + " " + text.substring(at);
    };
  }

  private static List<int[]> tokens(String text) {
    List<int[]> out = new ArrayList<>();
    Matcher m = TOKEN.matcher(text);
    while (m.find()) {
      out.add(new int[] {m.start(), m.end()});
    }
    if (out.isEmpty()) {
      out.add(new int[] {0, text.length()});
    }
    return out;
  }
}
