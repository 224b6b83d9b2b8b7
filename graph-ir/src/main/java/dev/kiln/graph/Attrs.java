package dev.kiln.graph;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSortedMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An operation's attributes: an immutable map from name to value, sorted by name. Values are of a
 * closed set of types: {@code Long}, {@code Double}, {@code Boolean}, {@code String}, {@link DType},
 * {@link Shape}, {@code List<Long>} and {@link Tensor}; the builder converts int, float, int[] and
 * long[] to them.
 */
public final class Attrs {
  private static final Attrs EMPTY = new Attrs(ImmutableSortedMap.of());

  private final ImmutableSortedMap<String, Object> values;

  private Attrs(ImmutableSortedMap<String, Object> values) {
    this.values = values;
  }

  public static Attrs empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.map.putAll(values);
    return b;
  }

  public Map<String, Object> asMap() {
    return values;
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public Optional<Object> find(String name) {
    return Optional.ofNullable(values.get(name));
  }

  private <T> T get(String name, Class<T> type) {
    Object v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("missing attribute '" + name + "'");
    }
    if (!type.isInstance(v)) {
      throw new IllegalArgumentException(
          "attribute '" + name + "' must be " + type.getSimpleName() + ", got " + kind(v));
    }
    return type.cast(v);
  }

  public long getLong(String name) {
    return get(name, Long.class);
  }

  public int getInt(String name) {
    return toInt(name, getLong(name));
  }

  public double getDouble(String name) {
    return get(name, Double.class);
  }

  public boolean getBool(String name) {
    return get(name, Boolean.class);
  }

  public boolean getBool(String name, boolean dflt) {
    return has(name) ? getBool(name) : dflt;
  }

  public String getString(String name) {
    return get(name, String.class);
  }

  public DType getDType(String name) {
    return get(name, DType.class);
  }

  public Shape getShape(String name) {
    return get(name, Shape.class);
  }

  public Tensor getTensor(String name) {
    return get(name, Tensor.class);
  }

  @SuppressWarnings("unchecked")
  public List<Long> getLongs(String name) {
    return get(name, List.class);
  }

  public int[] getInts(String name) {
    return getLongs(name).stream().mapToInt(v -> toInt(name, v)).toArray();
  }

  private static int toInt(String name, long v) {
    if (v != (int) v) {
      throw new IllegalArgumentException("attribute '" + name + "': " + v + " does not fit in an int");
    }
    return (int) v;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Attrs a && values.equals(a.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return values.toString();
  }

  /** The name of a normalized attribute value's type, for messages: Long, ..., List. */
  static String kind(Object v) {
    return v instanceof List<?> ? "List" : v.getClass().getSimpleName();
  }

  /** Normalizes a value to one of the allowed attribute types. */
  static Object normalize(String name, Object v) {
    return switch (v) {
      case null -> throw new IllegalArgumentException("attribute '" + name + "' is null");
      case Long l -> l;
      case Integer i -> (long) i;
      case Double d -> d;
      case Float f -> (double) f;
      case Boolean b -> b;
      case String s -> s;
      case DType d -> d;
      case Shape s -> s;
      case Tensor t -> t;
      case int[] a -> ImmutableList.copyOf(java.util.Arrays.stream(a).asLongStream().boxed().toList());
      case long[] a -> ImmutableList.copyOf(java.util.Arrays.stream(a).boxed().toList());
      case List<?> l when l.stream().allMatch(x -> x instanceof Long || x instanceof Integer) ->
          ImmutableList.copyOf(l.stream().map(x -> ((Number) x).longValue()).toList());
      default -> throw new IllegalArgumentException(
          "attribute '" + name + "': unsupported value type " + v.getClass().getSimpleName()
              + " (expected long, double, boolean, String, DType, Shape, Tensor, int[] or long[])");
    };
  }

  public static final class Builder {
    private final java.util.TreeMap<String, Object> map = new java.util.TreeMap<>();

    private Builder() {}

    public Builder set(String name, Object value) {
      map.put(name, normalize(name, value));
      return this;
    }

    /** Sets a value {@link #normalize} already returned. */
    Builder setNormalized(String name, Object value) {
      map.put(name, value);
      return this;
    }

    public Attrs build() {
      return map.isEmpty() ? EMPTY : new Attrs(ImmutableSortedMap.copyOfSorted(map));
    }
  }
}
