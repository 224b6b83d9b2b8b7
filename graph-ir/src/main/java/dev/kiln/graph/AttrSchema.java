package dev.kiln.graph;

import dev.kiln.graph.text.GraphParser;
import dev.kiln.graph.text.GraphPrinter;
import dev.kiln.graph.text.DotWriter;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The attributes an op type takes ({@link OpDef#attrSchema}). A node's attributes are checked against
 * it when they are set and when the node is built: a name it does not declare, a value of another
 * type, a value its constraint rejects, or a required attribute left out is an error naming the op
 * type, the node and the attribute. An attribute left out gets its default, so every built node holds
 * every attribute that has one.
 *
 * @param attrs the declared attributes, in the order messages list them
 * @param open whether names it does not declare are accepted, unchecked ({@link #unchecked()})
 */
public record AttrSchema(List<AttrDef> attrs, boolean open) {
  private static final AttrSchema NONE = new AttrSchema(List.of(), false);
  private static final AttrSchema UNCHECKED = new AttrSchema(List.of(), true);

  public AttrSchema {
    attrs = List.copyOf(attrs);
    Set<String> names = new HashSet<>();
    for (AttrDef a : attrs) {
      if (!names.add(a.name())) {
        throw new IllegalArgumentException("attribute '" + a.name() + "' is declared twice");
      }
    }
  }

  /** Exactly these attributes. */
  public static AttrSchema of(AttrDef... attrs) {
    return new AttrSchema(List.of(attrs), false);
  }

  /** No attributes: setting any is an error. */
  public static AttrSchema none() {
    return NONE;
  }

  /** Any attributes, none checked: what an op type that declares no schema gets. */
  public static AttrSchema unchecked() {
    return UNCHECKED;
  }

  public Optional<AttrDef> find(String name) {
    return Optional.ofNullable(lookup(name));
  }

  /** The attribute called {@code name}, or null; a loop, as every attribute set and node built asks. */
  private AttrDef lookup(String name) {
    for (int i = 0; i < attrs.size(); i++) {
      AttrDef a = attrs.get(i);
      if (a.name().equals(name)) {
        return a;
      }
    }
    return null;
  }

  /**
   * Checks one normalized attribute value of a node of op type {@code opType} named {@code node()};
   * throws an {@link IllegalArgumentException} reading {@code OpType 'node': ...} if it is unknown,
   * of the wrong type or rejected by its constraint.
   */
  void check(String opType, Supplier<String> node, String name, Object value) {
    AttrDef d = lookup(name);
    if (d == null) {
      if (open) {
        return;
      }
      throw error(opType, node, "unknown attribute '" + name + "' (" + hint(opType, name) + ")");
    }
    if (!d.type().accepts(value)) {
      throw error(opType, node, "attribute '" + name + "' must be " + d.type().described() + ", got "
          + AttrType.of(value).named() + ": " + show(value));
    }
    d.constraint().ifPresent(c -> {
      if (!c.test().test(value)) {
        throw error(opType, node, "attribute '" + name + "' must be " + c.expectation() + ", got " + show(value));
      }
    });
  }

  /**
   * A node's complete attributes: {@code given} checked (unless {@code givenChecked}: each was
   * checked as it was set), with the default of every attribute left out; fails on the first
   * unknown, mistyped or missing one.
   */
  Attrs complete(String opType, Supplier<String> node, Attrs given, boolean givenChecked) {
    if (!givenChecked) {
      given.asMap().forEach((name, value) -> check(opType, node, name, value));
    }
    Attrs.Builder out = null;
    for (AttrDef d : attrs) {
      if (given.has(d.name())) {
        continue;
      }
      if (d.required()) {
        throw error(opType, node, "missing attribute '" + d.name() + "' (" + d.type().described() + ")");
      }
      if (d.defaultValue().isPresent()) {
        out = out != null ? out : given.toBuilder();
        out.set(d.name(), d.defaultValue().get());
      }
    }
    return out != null ? out.build() : given;
  }

  /** "did you mean 'x'?" for a near miss, else the names this op type takes. */
  private String hint(String opType, String name) {
    List<String> names = attrs.stream().map(AttrDef::name).toList();
    Optional<String> near = Spelling.closest(name, names);
    if (near.isPresent()) {
      return "did you mean '" + near.get() + "'?";
    }
    return names.isEmpty() ? opType + " takes no attributes" : opType + " takes " + String.join(", ", names);
  }

  private static IllegalArgumentException error(String opType, Supplier<String> node, String message) {
    return new IllegalArgumentException(opType + " '" + node.get() + "': " + message);
  }

  /** A value as the text format writes it, cut short when long (a tensor's data). */
  private static String show(Object value) {
    if (value instanceof Tensor t) {
      return "dense<" + t.type() + ">";
    }
    String s = GraphPrinter.value(value);
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  /** Near-miss spelling suggestions. */
  static final class Spelling {
    private Spelling() {}

    /**
     * The candidate closest to {@code word} (optimal string alignment distance, ignoring case),
     * if one is within 1 edit for a name of up to 4 characters, else within 2.
     */
    static Optional<String> closest(String word, List<String> candidates) {
      String best = null;
      int bestDistance = Integer.MAX_VALUE;
      for (String c : candidates) {
        if (Math.abs(c.length() - word.length()) > 2) {
          continue; // too far apart, and a long word would make the table below large
        }
        int d = distance(word.toLowerCase(java.util.Locale.ROOT), c.toLowerCase(java.util.Locale.ROOT));
        if (d <= (c.length() <= 4 ? 1 : 2) && d < bestDistance) {
          best = c;
          bestDistance = d;
        }
      }
      return Optional.ofNullable(best);
    }

    /** Edits (insert, delete, substitute, swap two neighbours) that turn a into b. */
    static int distance(String a, String b) {
      int[][] d = new int[a.length() + 1][b.length() + 1];
      for (int i = 0; i <= a.length(); i++) {
        d[i][0] = i;
      }
      for (int j = 0; j <= b.length(); j++) {
        d[0][j] = j;
      }
      for (int i = 1; i <= a.length(); i++) {
        for (int j = 1; j <= b.length(); j++) {
          int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
          d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
          if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
            d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
          }
        }
      }
      return d[a.length()][b.length()];
    }
  }
}
