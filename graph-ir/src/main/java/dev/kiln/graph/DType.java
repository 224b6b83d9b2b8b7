package dev.kiln.graph;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element type of a tensor. The narrow types (f16, bf16, i8, u8, i16) are held on the heap in the
 * array of their {@link #computeType()} (float[] or int[]) with every element exactly representable in
 * the narrow type; kernels compute in the compute type and round (floats: to nearest, ties to even) or
 * wrap (integers: two's complement) on store. {@link #byteSize()} is the narrow size files use.
 */
public enum DType {
  FLOAT32("f32", 4), FLOAT64("f64", 8), INT32("i32", 4), INT64("i64", 8), BOOL("bool", 1),
  FLOAT16("f16", 2), BFLOAT16("bf16", 2), INT8("i8", 1), UINT8("u8", 1), INT16("i16", 2);

  private final String shortName;
  private final int byteSize;

  DType(String shortName, int byteSize) {
    this.shortName = shortName;
    this.byteSize = byteSize;
  }

  /** The short spelling used by the text format and messages: f32, f64, i32, i64, bool, f16, bf16, i8, u8, i16. */
  public String shortName() {
    return shortName;
  }

  /** Bytes per element in files and on devices (the narrow size for the narrow types). */
  public int byteSize() {
    return byteSize;
  }

  public boolean isFloating() {
    return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
  }

  public boolean isInteger() {
    return this == INT32 || this == INT64 || this == INT8 || this == UINT8 || this == INT16;
  }

  public boolean isNumeric() {
    return this != BOOL;
  }

  /** Whether this is a narrow type, stored and computed as its {@link #computeType()}. */
  public boolean isNarrow() {
    return computeType() != this;
  }

  /**
   * The type the CPU computes a narrow type in and whose array holds its values: FLOAT32 for f16 and
   * bf16, INT32 for i8, u8 and i16; the type itself for the others.
   */
  public DType computeType() {
    return switch (this) {
      case FLOAT16, BFLOAT16 -> FLOAT32;
      case INT8, UINT8, INT16 -> INT32;
      default -> this;
    };
  }

  /** Every short name, for messages: "f32, f64, ...". */
  public static String shortNames() {
    return Arrays.stream(values()).map(DType::shortName).collect(Collectors.joining(", "));
  }

  /** Parses a short name (f32, ...) or an enum name (FLOAT32, ...). */
  public static DType fromName(String name) {
    for (DType d : values()) {
      if (d.shortName.equals(name) || d.name().equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown dtype '" + name + "' (expected one of " + shortNames() + ")");
  }
}
