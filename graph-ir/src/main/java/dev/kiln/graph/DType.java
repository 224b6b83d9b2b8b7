package dev.kiln.graph;

/** Element type of a tensor. */
public enum DType {
  FLOAT32("f32", 4), FLOAT64("f64", 8), INT32("i32", 4), INT64("i64", 8), BOOL("bool", 1);

  private final String shortName;
  private final int byteSize;

  DType(String shortName, int byteSize) {
    this.shortName = shortName;
    this.byteSize = byteSize;
  }

  /** The short spelling used by the text format and messages: f32, f64, i32, i64, bool. */
  public String shortName() {
    return shortName;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  public boolean isFloating() {
    return this == FLOAT32 || this == FLOAT64;
  }

  public boolean isInteger() {
    return this == INT32 || this == INT64;
  }

  public boolean isNumeric() {
    return this != BOOL;
  }

  /** Parses a short name (f32, ...) or an enum name (FLOAT32, ...). */
  public static DType fromName(String name) {
    for (DType d : values()) {
      if (d.shortName.equals(name) || d.name().equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown dtype '" + name + "' (expected one of f32, f64, i32, i64, bool)");
  }
}
