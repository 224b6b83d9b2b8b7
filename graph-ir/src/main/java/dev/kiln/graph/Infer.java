package dev.kiln.graph;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Shared checks and inference steps for the built-in ops. */
final class Infer {
  static final Set<DType> ALL = EnumSet.allOf(DType.class);
  static final Set<DType> NUMERIC = EnumSet.complementOf(EnumSet.of(DType.BOOL));
  static final Set<DType> FLOAT = EnumSet.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16);
  static final Set<DType> INTEGER = EnumSet.of(DType.INT32, DType.INT64, DType.INT8, DType.UINT8, DType.INT16);
  static final Set<DType> BOOL = EnumSet.of(DType.BOOL);

  private Infer() {}

  static String describe(Set<DType> set) {
    if (set.equals(NUMERIC)) {
      return "numeric (f32, f64, i32, i64, f16, bf16, i8, u8, i16)";
    }
    if (set.equals(FLOAT)) {
      return "float (f32, f64, f16, bf16)";
    }
    if (set.equals(INTEGER)) {
      return "integer (i32, i64, i8, u8, i16)";
    }
    if (set.equals(BOOL)) {
      return "bool";
    }
    return set.toString();
  }

  static DType dtypeIn(OpContext c, int i, Set<DType> allowed) {
    DType d = c.dtype(i);
    if (!allowed.contains(d)) {
      throw c.error("input %d must be %s, got %s", i, describe(allowed), d.shortName());
    }
    return d;
  }

  /** All inputs (from {@code from}) share one dtype from {@code allowed}; returns it. */
  static DType sameDType(OpContext c, int from, Set<DType> allowed) {
    DType d = dtypeIn(c, from, allowed);
    for (int i = from + 1; i < c.numInputs(); i++) {
      if (c.dtype(i) != d) {
        throw c.error("dtypes differ: %s vs %s", d.shortName(), c.dtype(i).shortName());
      }
    }
    return d;
  }

  static Shape broadcast(OpContext c, int from) {
    Shape s = c.shape(from);
    for (int i = from + 1; i < c.numInputs(); i++) {
      Shape b = Shape.broadcast(s, c.shape(i));
      if (b == null) {
        throw c.error("shapes %s and %s do not broadcast", s, c.shape(i));
      }
      s = b;
    }
    return s;
  }

  static List<TensorType> one(DType d, Shape s) {
    return List.of(new TensorType(d, s));
  }

  static void requireRank(OpContext c, int i, int rank) {
    Shape s = c.shape(i);
    if (s.hasKnownRank() && s.rank() != rank) {
      throw c.error("input %d must be rank %d, got %s", i, rank, s);
    }
  }

  /** Normalizes an axis against a rank (negative counts from the end). */
  static int axis(OpContext c, long axis, int rank, Shape of) {
    if (axis < -rank || axis >= rank) {
      throw c.error("axis %d out of range for rank %d input %s", axis, rank, of);
    }
    return (int) (axis < 0 ? axis + rank : axis);
  }

  /**
   * A dimension computed from others (a concatenation, a padding), exactly: fails when it is more
   * than a tensor can hold along one axis, where an int would have wrapped around.
   */
  static int dimension(OpContext c, java.math.BigInteger size, String what) {
    if (size.compareTo(java.math.BigInteger.valueOf(Shape.MAX_ELEMENTS)) > 0) {
      throw c.error("%s would have size %s, more than a tensor can hold (%d)", what, size, Shape.MAX_ELEMENTS);
    }
    return size.intValueExact();
  }

  static Shape requireDefinedAttrShape(OpContext c, String attr) {
    Shape s = attr(c, attr, Shape.class);
    if (!s.isFullyDefined()) {
      throw c.error("attribute '%s' must be a fully defined shape, got %s", attr, s);
    }
    return s;
  }

  static Attrs attrs(OpContext c) {
    return c.attrs();
  }

  static long attrLong(OpContext c, String name) {
    try {
      return c.attrs().getLong(name);
    } catch (IllegalArgumentException e) {
      throw c.error("%s", e.getMessage());
    }
  }

  /** A boolean attribute, {@code dflt} when absent. */
  static boolean attrBool(OpContext c, String name, boolean dflt) {
    return c.attrs().has(name) ? attr(c, name, Boolean.class) : dflt;
  }

  static List<Long> attrLongs(OpContext c, String name) {
    try {
      return c.attrs().getLongs(name);
    } catch (IllegalArgumentException e) {
      throw c.error("%s", e.getMessage());
    }
  }

  static <T> T attr(OpContext c, String name, Class<T> type) {
    Object v = c.attrs().find(name).orElseThrow(() -> c.error("missing attribute '%s'", name));
    if (!type.isInstance(v)) {
      throw c.error("attribute '%s' must be %s, got %s", name, type.getSimpleName(), Attrs.kind(v));
    }
    return type.cast(v);
  }
}
