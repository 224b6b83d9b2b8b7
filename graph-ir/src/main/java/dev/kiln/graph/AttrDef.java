package dev.kiln.graph;

import dev.kiln.graph.text.GraphParser;
import dev.kiln.graph.text.GraphPrinter;
import dev.kiln.graph.text.DotWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * One attribute an op type takes: its name, type, whether it must be given, the value used when it
 * is not, and an optional constraint on its value. Part of an {@link AttrSchema}.
 *
 * @param name the attribute's name, as written in {@code setAttr} and in the text format
 * @param type the type of its value
 * @param required whether every node must give it (a required attribute has no default)
 * @param defaultValue the value a node gets when it does not give one; empty for a required attribute
 *     and for an optional one that stays absent
 * @param constraint what a value must satisfy beyond its type
 */
public record AttrDef(String name, AttrType type, boolean required, Optional<Object> defaultValue,
    Optional<Constraint> constraint) {

  public AttrDef {
    Objects.requireNonNull(name, "attribute name is null");
    Objects.requireNonNull(type, () -> "type of attribute '" + name + "' is null");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("attribute name is empty");
    }
    Objects.requireNonNull(constraint, () -> "constraint of attribute '" + name + "' is null");
    defaultValue = defaultValue.map(v -> Attrs.normalize(name, v));
    if (required && defaultValue.isPresent()) {
      throw new IllegalArgumentException("required attribute '" + name + "' cannot have a default");
    }
    if (defaultValue.isPresent()) {
      Object v = defaultValue.get();
      if (!type.accepts(v)) {
        throw new IllegalArgumentException("default of attribute '" + name + "' must be " + type.named()
            + ", got " + AttrType.of(v).named());
      }
      if (constraint.isPresent() && !constraint.get().test().test(v)) {
        throw new IllegalArgumentException("default of attribute '" + name + "' must be "
            + constraint.get().expectation() + ", got " + GraphPrinter.value(v));
      }
    }
  }

  /** An attribute every node must give. */
  public static AttrDef required(String name, AttrType type) {
    return new AttrDef(name, type, true, Optional.empty(), Optional.empty());
  }

  /** An attribute a node may leave out, getting {@code defaultValue} (normalized as by {@link Attrs}). */
  public static AttrDef optional(String name, AttrType type, Object defaultValue) {
    return new AttrDef(name, type, false, Optional.of(Objects.requireNonNull(defaultValue,
        () -> "default of attribute '" + name + "' is null")), Optional.empty());
  }

  /** An attribute a node may leave out, which then stays absent. */
  public static AttrDef optional(String name, AttrType type) {
    return new AttrDef(name, type, false, Optional.empty(), Optional.empty());
  }

  /** This attribute, whose values must also satisfy {@code c}. */
  public AttrDef constrained(Constraint c) {
    return new AttrDef(name, type, required, defaultValue, Optional.of(c));
  }

  /**
   * A condition on an attribute's value beyond its type: {@code test} gets a value of the attribute's
   * type (normalized as by {@link Attrs}); {@code expectation} completes "must be ...", e.g. "one of
   * i32, i64".
   */
  public record Constraint(String expectation, Predicate<Object> test) {
    public Constraint {
      Objects.requireNonNull(expectation, "expectation is null");
      Objects.requireNonNull(test, "test is null");
    }

    /** The value is one of {@code values} (normalized as by {@link Attrs}). */
    public static Constraint oneOf(Object... values) {
      List<Object> allowed = Arrays.stream(values).map(v -> Attrs.normalize("value", v)).toList();
      String listed = String.join(", ", allowed.stream().map(GraphPrinter::value).toList());
      return new Constraint("one of " + listed, allowed::contains);
    }

    /** An int attribute in {@code min..max}. */
    public static Constraint range(long min, long max) {
      return new Constraint("in " + min + ".." + max, v -> (Long) v >= min && (Long) v <= max);
    }

    /** A float attribute that is neither infinite nor NaN. */
    public static Constraint finite() {
      return new Constraint("a finite number", v -> Double.isFinite((Double) v));
    }
  }
}
