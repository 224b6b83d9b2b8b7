package dev.kiln.reliability;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tally of one check: how many inputs were tried and handled, the failures grouped by category
 * with their first examples, and a sample of handled cases' messages so that a reader can judge them.
 * Thread-safe: concurrent campaigns record from several threads.
 */
public final class Check {
  /** How many examples each failure category and the handled sample keep. */
  private static final int EXAMPLES = ReliabilityOptions.CURRENT.examples();

  /** Keep every handled case's message, up to the example limit. */
  private static final boolean ALL_HANDLED = ReliabilityOptions.CURRENT.allHandled();

  private final String name;
  private int tried;
  private int handled;
  private final Map<String, Category> failures = new LinkedHashMap<>();
  private final List<String> handledSamples = new ArrayList<>();
  private int handledSeen;
  private final List<String> notes = new ArrayList<>();

  public Check(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  /** Records one tried input; {@code input} describes it in a line. */
  public synchronized void record(String input, Verdict v) {
    tried++;
    if (v.handled()) {
      handled++;
      // Evenly spread samples: the first few, then every 2^k-th, so a long run still shows late cases.
      handledSeen++;
      if (handledSamples.size() < EXAMPLES && (handledSeen <= 3 || Integer.bitCount(handledSeen) == 1 || ALL_HANDLED)) {
        handledSamples.add(oneLine(input) + "  =>  " + oneLine(v.detail()));
      }
      return;
    }
    Category c = failures.computeIfAbsent(v.category(), k -> new Category());
    c.count++;
    if (c.examples.size() < EXAMPLES) {
      c.examples.add(oneLine(input) + "  =>  " + oneLine(v.detail()));
    }
  }

  /** A measurement or remark printed with the check (heap samples, timings). */
  public synchronized void note(String line) {
    notes.add(line);
  }

  public synchronized int tried() {
    return tried;
  }

  public synchronized int handled() {
    return handled;
  }

  public synchronized int failed() {
    return tried - handled;
  }

  /** Failure categories with their counts, most frequent first. */
  public synchronized Map<String, Integer> failureCounts() {
    Map<String, Integer> m = new LinkedHashMap<>();
    failures.entrySet().stream()
        .sorted((a, b) -> Integer.compare(b.getValue().count, a.getValue().count))
        .forEach(e -> m.put(e.getKey(), e.getValue().count));
    return m;
  }

  public synchronized List<String> examples(String category) {
    Category c = failures.get(category);
    return c == null ? List.of() : List.copyOf(c.examples);
  }

  public synchronized List<String> handledSamples() {
    return List.copyOf(handledSamples);
  }

  public synchronized List<String> notes() {
    return List.copyOf(notes);
  }

  static String oneLine(String s) {
    String t = s == null ? "null" : s.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ");
    return t.length() > 300 ? t.substring(0, 297) + "..." : t;
  }

  private static final class Category {
    int count;
    final List<String> examples = new ArrayList<>();
  }
}
