package dev.kiln.reliability;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seeded mutations of graph text: byte flips, character and token deletion, duplication, swaps and
 * replacements, huge numbers, unicode, truncation, and deeply nested sub-graph blocks.
 */
final class TextMutator {
  // Strings are matched as an unrolled loop on one line: a (a|b)* group would recurse once per character
  // in java.util.regex and overflow the stack on a long unterminated string.
  private static final Pattern TOKEN = Pattern.compile("%[A-Za-z0-9_.\\-/]+(:[0-9]+)?|-?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?"
      + "|[A-Za-z_][A-Za-z0-9_]*|\"[^\"\\\\\n]*(?:\\\\.[^\"\\\\\n]*)*\"|->|\\S");
  private static final String CHARS = "%=(){}[]<>,:^@?*\"\\-.0123456789azAZ_/ \n\t#";
  private static final List<String> WORDS = List.of("graph", "subgraph", "dense", "array", "f32", "i64", "bool",
      "true", "nan", "-inf", "Placeholder", "MatMul", "Const", "Variable", "Parameter", "NoOp", "Fused", "%x", "%w1:1",
      "^%x", "[?,3]", "[*]", "dense<f32[2]>[1.0, 2.0]", "dense<i32[17]>\"AAAA\"", "array<1, -1>", ": ()", "(f32[2], i32[])",
      "dense<f32[65536,65536,65536,65536]>[]", "dense<f32[3]>[1.0]", "[2147483647, 2147483647]", "array<>");
  private static final List<String> HUGE = List.of("99999999999999999999", "2147483648", "-2147483649", "2147483647",
      "9223372036854775808", "1e999", "-1e999", "1.0e-999", "340282366920938463463374607431768211456",
      "0.00000000000000000000000000000000000000000000001", "4294967296", "65536", "-0", "00000000000000000001");
  private static final List<String> UNICODE = List.of("é", "€", "\uD835\uDD18", "\u0000", "\u200F", "\uFEFF", "e\u0301",
      "\uD800", "\u2028", "\u00A0", "日本", "\u202E", "\uFFFD", "ß", "\u0130");

  private TextMutator() {}

  /** One to three random mutations of {@code text}; {@code kind[0]} receives the name of the last one. */
  static String mutate(String text, Random rnd, String[] kind) {
    String t = text;
    for (int k = 1 + rnd.nextInt(3); k > 0; k--) {
      t = mutateOnce(t, rnd, kind);
    }
    return t;
  }

  private static String mutateOnce(String text, Random rnd, String[] kind) {
    if (text.isEmpty()) {
      kind[0] = "insert word into empty text";
      return WORDS.get(rnd.nextInt(WORDS.size()));
    }
    int at = rnd.nextInt(text.length());
    List<int[]> tokens = tokens(text);
    int[] tok = tokens.get(rnd.nextInt(tokens.size()));
    int m = rnd.nextInt(13);
    kind[0] = switch (m) {
      case 0 -> "byte flip";
      case 1 -> "char deletion";
      case 2 -> "char insertion";
      case 3 -> "char swap";
      case 4 -> "token deletion";
      case 5 -> "token duplication";
      case 6 -> "token swap";
      case 7 -> "token replaced by a word";
      case 8 -> "word inserted";
      case 9 -> "huge number";
      case 10 -> "unicode";
      case 11 -> "truncation";
      default -> "line duplication";
    };
    return switch (m) {
      case 0 -> flipByte(text, rnd);
      case 1 -> text.substring(0, at) + text.substring(at + 1);
      case 2 -> text.substring(0, at) + CHARS.charAt(rnd.nextInt(CHARS.length())) + text.substring(at);
      case 3 -> at + 1 < text.length()
          ? text.substring(0, at) + text.charAt(at + 1) + text.charAt(at) + text.substring(at + 2) : text;
      case 4 -> text.substring(0, tok[0]) + text.substring(tok[1]);
      case 5 -> text.substring(0, tok[1]) + " " + text.substring(tok[0], tok[1]) + text.substring(tok[1]);
      case 6 -> {
        int[] other = tokens.get(rnd.nextInt(tokens.size()));
        int[] a = tok[0] <= other[0] ? tok : other;
        int[] b = tok[0] <= other[0] ? other : tok;
        yield a[1] > b[0] ? text : text.substring(0, a[0]) + text.substring(b[0], b[1])
            + text.substring(a[1], b[0]) + text.substring(a[0], a[1]) + text.substring(b[1]);
      }
      case 7 -> text.substring(0, tok[0]) + WORDS.get(rnd.nextInt(WORDS.size())) + text.substring(tok[1]);
      case 8 -> text.substring(0, at) + " " + WORDS.get(rnd.nextInt(WORDS.size())) + " " + text.substring(at);
      case 9 -> replaceNumber(text, tokens, rnd);
      case 10 -> text.substring(0, at) + UNICODE.get(rnd.nextInt(UNICODE.size())) + text.substring(at);
      case 11 -> text.substring(0, at);
      default -> duplicateLine(text, rnd);
    };
  }

  private static String flipByte(String text, Random rnd) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int i = rnd.nextInt(b.length);
    b[i] ^= (byte) (1 << rnd.nextInt(8));
    return new String(b, StandardCharsets.UTF_8);
  }

  private static String replaceNumber(String text, List<int[]> tokens, Random rnd) {
    List<int[]> numbers = new ArrayList<>();
    for (int[] t : tokens) {
      char c = text.charAt(t[0]);
      if (Character.isDigit(c) || (c == '-' && t[1] - t[0] > 1)) {
        numbers.add(t);
      }
    }
    if (numbers.isEmpty()) {
      return text;
    }
    int[] t = numbers.get(rnd.nextInt(numbers.size()));
    return text.substring(0, t[0]) + HUGE.get(rnd.nextInt(HUGE.size())) + text.substring(t[1]);
  }

  private static String duplicateLine(String text, Random rnd) {
    String[] lines = text.split("\n", -1);
    int i = rnd.nextInt(lines.length);
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < lines.length; k++) {
      sb.append(lines[k]).append('\n');
      if (k == i) {
        sb.append(lines[k]).append('\n');
      }
    }
    return sb.toString();
  }

  /** A graph whose Fused node's body holds a Fused node, {@code depth} levels down. */
  static String nested(int depth) {
    StringBuilder sb = new StringBuilder("graph deep {\n  %x = Placeholder() {dtype = f32, shape = [2]} : f32[2]\n");
    for (int d = 0; d < depth; d++) {
      sb.append(" %f = Fused(").append(d == 0 ? "%x" : "%p").append(") : f32[2] subgraph (%p) -> (%f) {\n")
          .append(" %p = Parameter() {dtype = f32, shape = [2]} : f32[2]\n");
    }
    sb.append(" %f = Neg(").append(depth == 0 ? "%x" : "%p").append(") : f32[2]\n");
    sb.append(" }\n".repeat(depth));
    return sb.append("}\n").toString();
  }

  static List<int[]> tokens(String text) {
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
