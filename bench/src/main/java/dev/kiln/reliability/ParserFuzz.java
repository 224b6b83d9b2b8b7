package dev.kiln.reliability;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphParseException;
import dev.kiln.graph.Ops;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Campaign 4: mutants of examples/graphs/*.kg, of the graph-ir golden files and of graphs built in code
 * and printed. Handled: a {@link GraphParseException} whose line:col lies in the text, or a parse whose
 * print re-parses to the same text. Wrong: anything else (StackOverflowError included). Two further
 * checks: deeply nested sub-graph blocks, and attribute names misspelled (which must not parse).
 */
public final class ParserFuzz {
  private static final Pattern ATTR_NAME = Pattern.compile("[{,]\\s*([a-z_][a-z_0-9]*)\\s*=");
  /** Attributes that built-in ops define; other names in the seeds (a NoOp's free-form ones) are left alone. */
  private static final java.util.Set<String> SCHEMA_ATTRS = java.util.Set.of("dtype", "shape", "value", "seed",
      "transpose_a", "transpose_b", "axes", "keep_dims", "axis", "perm", "begin", "size", "paddings", "depth",
      "on_value", "off_value", "output_type");

  private ParserFuzz() {}

  public static void main(String[] args) {
    Campaign campaign = new Campaign("parser fuzzing");
    List<String> seeds = seeds();
    // First, in a cold JVM: interpreted frames are larger, as when a user parses one file.
    Check deep = campaign.check("parser: sub-graph blocks nested 1 to 20,000 deep");
    for (int depth : new int[] {1, 10, 100, 300, 600, 900, 1200, 2000, 5000, 20_000}) {
      String text = TextMutator.nested(depth);
      deep.record("nested " + depth + " deep (" + text.length() / 1024 + " KB)", judge(text));
    }

    Check mutants = campaign.check("parser: mutants of " + seeds.size() + " graph texts");
    int n = Campaign.scaled(20_000, 500);
    Random rnd = new Random(20_261_207);
    String[] kind = new String[1];
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      String text;
      if (i % 100 == 99) {
        int depth = 1 + rnd.nextInt(i % 200 == 199 ? 5000 : 1200);
        text = TextMutator.nested(depth);
        kind[0] = "nested " + depth + " deep";
        if (rnd.nextBoolean()) {
          text = TextMutator.mutate(text, rnd, new String[1]);
          kind[0] += ", mutated";
        }
      } else {
        text = TextMutator.mutate(seeds.get(i % seeds.size()), rnd, kind);
      }
      mutants.record("mutant " + i + " (" + kind[0] + ", " + text.length() + " chars): " + excerpt(text), judge(text));
      if (i % 2000 == 1999) {
        System.out.printf("  %d mutants, %.0f s%n", i + 1, (System.nanoTime() - t0) / 1e9);
      }
    }
    mutants.note(String.format("%d mutants in %.1f s", n, (System.nanoTime() - t0) / 1e9));

    Check attrs = campaign.check("parser: misspelled attribute names must not parse");
    misspelledAttributes(seeds, attrs, Campaign.scaled(600, 60));
    campaign.finish();
  }

  /** The verdict on one text. */
  static Verdict judge(String text) {
    Graph g;
    try {
      g = Graph.parse(text, "fuzz.kg");
    } catch (GraphParseException e) {
      return position(e, text);
    } catch (Throwable t) {
      Verdict k = Classify.kind(t);
      return Verdict.failed(k.handled() ? "not a GraphParseException: " + t.getClass().getSimpleName() : k.category(),
          Classify.describe(t));
    }
    try {
      String printed = g.toText();
      String again = Graph.parse(printed, "printed.kg").toText();
      return printed.equals(again) ? Verdict.handled("parsed; its print re-parses to the same text")
          : Verdict.failed("parsed, but its print re-parses to a different text", firstDifference(printed, again));
    } catch (Throwable t) {
      return Verdict.failed("parsed, but printing or re-parsing it threw " + t.getClass().getSimpleName(),
          Classify.describe(t));
    }
  }

  private static Verdict position(GraphParseException e, String text) {
    int lines = text.split("\n", -1).length;
    String m = e.getMessage() == null ? "" : e.getMessage();
    if (e.line() < 1 || e.line() > lines + 1 || e.column() < 1) {
      return Verdict.failed("GraphParseException position outside the text", Classify.describe(e) + " (text has " + lines + " lines)");
    }
    if (!m.contains(e.line() + ":" + e.column())) {
      return Verdict.failed("GraphParseException message without its line:col", Classify.describe(e));
    }
    String detail = e.detail() == null ? "" : e.detail().strip();
    if (detail.isEmpty() || detail.equals("null") || detail.endsWith(": null")) {
      return Verdict.failed("GraphParseException without a description", Classify.describe(e));
    }
    return Verdict.handled(m);
  }

  private static void misspelledAttributes(List<String> seeds, Check check, int n) {
    Random rnd = new Random(77);
    int tried = 0;
    for (int i = 0; tried < n && i < n * 20; i++) {
      String seed = seeds.get(i % seeds.size());
      List<int[]> names = new ArrayList<>();
      Matcher m = ATTR_NAME.matcher(seed);
      while (m.find()) {
        if (SCHEMA_ATTRS.contains(m.group(1))) {
          names.add(new int[] {m.start(1), m.end(1)});
        }
      }
      if (names.isEmpty()) {
        continue;
      }
      int[] at = names.get(rnd.nextInt(names.size()));
      String name = seed.substring(at[0], at[1]);
      String typo = misspell(name, rnd);
      if (typo.equals(name) || typo.isEmpty()) {
        continue;
      }
      tried++;
      String text = seed.substring(0, at[0]) + typo + seed.substring(at[1]);
      int line = seed.substring(0, at[0]).split("\n", -1).length;
      String input = "'" + name + "' -> '" + typo + "' on line " + line + ": " + excerpt(text.split("\n", -1)[line - 1].strip());
      Verdict v = judge(text);
      if (v.handled() && v.detail().startsWith("parsed")) {
        v = Verdict.failed("misspelled attribute accepted", "parsed without an error");
      }
      check.record(input, v);
    }
  }

  private static String misspell(String name, Random rnd) {
    int i = rnd.nextInt(name.length());
    return switch (rnd.nextInt(4)) {
      case 0 -> name.substring(0, i) + name.substring(i + 1);
      case 1 -> i + 1 < name.length() ? name.substring(0, i) + name.charAt(i + 1) + name.charAt(i) + name.substring(i + 2) : name + "s";
      case 2 -> name.substring(0, i) + (char) ('a' + rnd.nextInt(26)) + name.substring(i);
      default -> name.toUpperCase(java.util.Locale.ROOT);
    };
  }

  /** The seed texts: example graphs, the graph-ir golden files, and graphs built here and printed. */
  static List<String> seeds() {
    List<String> out = new ArrayList<>();
    Path root = Campaign.root();
    for (Path dir : List.of(root.resolve("examples/graphs"), root.resolve("graph-ir/src/test/resources/golden"))) {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path p : files.filter(f -> f.toString().endsWith(".kg")).sorted().toList()) {
          out.add(Files.readString(p));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the seed graphs under " + dir + " (set kiln.reliability.root)", e);
      }
    }
    out.add(new Workload(8).g.toText());
    Workload w = new Workload(4);
    Ops tf = w.tf;
    tf.gradients(tf.reduceSum(w.probs), w.w1);
    out.add(w.g.toText());
    out.add(new ApiFixture().g.toText());
    out.add(TextMutator.nested(3));
    return out;
  }

  private static String excerpt(String text) {
    String t = text.length() > 120 ? text.substring(0, 120) + "..." : text;
    return t;
  }

  private static String firstDifference(String a, String b) {
    int i = 0;
    while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
      i++;
    }
    int from = Math.max(0, i - 30);
    return "first print '..." + a.substring(from, Math.min(a.length(), i + 30)) + "...' vs re-print '..."
        + b.substring(from, Math.min(b.length(), i + 30)) + "...'";
  }
}
