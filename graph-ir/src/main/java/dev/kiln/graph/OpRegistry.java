package dev.kiln.graph;

import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The process-wide table of op types. Built-in ops are registered when the class loads; users add
 * their own with {@link #register}. Registering a name twice is an error.
 */
public final class OpRegistry {
  private static final ConcurrentHashMap<String, OpDef> OPS = new ConcurrentHashMap<>();

  static {
    BuiltinOps.registerAll();
  }

  private OpRegistry() {}

  /** Adds an op type; fails if one of that name exists. */
  public static void register(OpDef def) {
    if (!def.type().matches("[A-Z][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(
          "op type name '" + def.type() + "' must start with an upper-case letter and hold letters, digits, _");
    }
    OpDef prev = OPS.putIfAbsent(def.type(), def);
    if (prev != null) {
      throw new IllegalArgumentException("op type '" + def.type() + "' is already registered");
    }
  }

  public static Optional<OpDef> find(String type) {
    return Optional.ofNullable(OPS.get(type));
  }

  /** The op type of that name; fails with a clear message if none is registered. */
  public static OpDef get(String type) {
    OpDef d = OPS.get(type);
    if (d == null) {
      throw new IllegalArgumentException("unknown op type '" + type + "'");
    }
    return d;
  }

  /** All registered op type names, sorted. */
  public static Set<String> types() {
    return new TreeSet<>(OPS.keySet());
  }
}
