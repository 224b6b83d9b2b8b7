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

  private static final ConcurrentHashMap<String, GradientFunction> GRADIENTS = new ConcurrentHashMap<>();

  static {
    BuiltinOps.registerAll();
    CustomGradients.register();
    BuiltinGradients.registerAll();
    ConvGradients.registerAll();
    CustomGradients.registerGradient();
  }

  private OpRegistry() {}

  /** Adds an op type; fails if one of that name exists. */
  public static void register(OpDef def) {
    if (!def.type().matches("[A-Z][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(
          "op type name '" + def.type() + "' must start with an upper-case letter and hold letters, digits, _");
    }
    java.util.Objects.requireNonNull(def.attrSchema(),
        () -> "op type '" + def.type() + "': attrSchema() returned null (AttrSchema.none() declares no attributes)");
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

  /**
   * Registers the gradient of op type {@code opType} (built-in or user-defined, already registered);
   * fails if that type is unknown or already has a registered gradient.
   */
  public static void registerGradient(String opType, GradientFunction gradient) {
    get(opType);
    java.util.Objects.requireNonNull(gradient, () -> "gradient of '" + opType + "' is null");
    GradientFunction prev = GRADIENTS.putIfAbsent(opType, gradient);
    if (prev != null) {
      throw new IllegalArgumentException("op type '" + opType + "' already has a registered gradient");
    }
  }

  /**
   * The gradient of op type {@code opType}: the registered one, else the one its {@link OpDef}
   * supplies; empty when it has none.
   */
  public static Optional<GradientFunction> findGradient(String opType) {
    GradientFunction g = GRADIENTS.get(opType);
    return g != null ? Optional.of(g) : get(opType).gradient();
  }
}
