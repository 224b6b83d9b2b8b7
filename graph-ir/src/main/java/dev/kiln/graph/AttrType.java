package dev.kiln.graph;

import java.util.List;

/**
 * The type of an attribute in an op's {@link AttrSchema}: one per kind of value {@link Attrs} holds
 * and the text format writes. Messages describe a type in the text format's words.
 */
public enum AttrType {
  BOOL("a bool", " (true or false)"),
  INT("an int", ""),
  FLOAT("a float", ""),
  STRING("a string", ""),
  DTYPE("a dtype", " such as f32 or i64"),
  SHAPE("a shape", " such as [2,?] or [*]"),
  INT_LIST("an int list", " such as array<0, 1>"),
  TENSOR("a tensor", " such as dense<f32[2]>[1.0, 2.0]");

  private final String article;
  private final String example;

  AttrType(String article, String example) {
    this.article = article;
    this.example = example;
  }

  /** The type of a normalized attribute value (see {@link Attrs}). */
  static AttrType of(Object value) {
    return switch (value) {
      case Boolean b -> BOOL;
      case Long l -> INT;
      case Double d -> FLOAT;
      case String s -> STRING;
      case DType d -> DTYPE;
      case Shape s -> SHAPE;
      case List<?> l -> INT_LIST;
      case Tensor t -> TENSOR;
      default -> throw new IllegalArgumentException("not a normalized attribute value: " + value.getClass());
    };
  }

  /** Whether a normalized attribute value is of this type. */
  public boolean accepts(Object value) {
    return of(value) == this;
  }

  /** "a bool", "an int list": the type with its article, for "got an int: 1". */
  String named() {
    return article;
  }

  /** "a bool (true or false)", "an int list such as array<0, 1>": the type as an expectation. */
  String described() {
    return article + example;
  }
}
