package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Elementwise semantics are written once: every elementwise op type is an {@link ElementwiseOp}
 * that knows its {@link Primitive} (or its expansion), and no main source file outside graph-ir's
 * definitions names an elementwise op type in a string literal — no {@code case "Sigmoid"}, no set
 * of op names, no {@code type().equals("Add")}: devices and passes dispatch on the primitive.
 */
class ElementwiseDispatchTest {
  /** The graph-ir files that define elementwise op types: the definitions, their builders, their gradients. */
  private static final Set<String> DEFINITIONS = Set.of("ElementwiseOps.java", "Ops.java", "BuiltinGradients.java");

  /**
   * The reliability harness's cases (bench) build nodes by type name through the public API and
   * expect error messages to name the op: test data, not dispatch.
   */
  private static final String HARNESS = "/bench/src/main/java/dev/kiln/reliability/";

  /** ONNX import maps ONNX's operator names (its file format's vocabulary), which share Kiln's spelling. */
  static final List<String> ONNX = List.of("/onnx/src/main/java/dev/kiln/onnx/", "/bench/src/main/java/dev/kiln/bench/OnnxVsOrt.java");

  private static final Pattern LITERAL = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");

  /** The op types an {@link ElementwiseOp} defines. */
  static Set<String> elementwiseTypes() {
    Set<String> types = new TreeSet<>();
    for (String t : OpRegistry.types()) {
      if (OpRegistry.get(t) instanceof ElementwiseOp) {
        types.add(t);
      }
    }
    return types;
  }

  @Test
  void everyElementwiseOpTypeHasAPrimitiveOrAnExpansion() {
    for (String t : OpRegistry.types()) {
      OpDef d = OpRegistry.get(t);
      boolean elementwise = d.traits().contains(OpTrait.ELEMENTWISE);
      boolean exempt = d.traits().contains(OpTrait.VIEW) || t.equals("Fused"); // views and fused bodies
      if (elementwise && !exempt && !t.startsWith("Test")) {
        assertTrue(d instanceof ElementwiseOp, t + " is elementwise but not an ElementwiseOp");
      }
    }
    for (Primitive p : Primitive.values()) {
      OpDef d = OpRegistry.get(p.opType());
      assertEquals(java.util.Optional.of(p), d.primitive(), p.opType());
    }
  }

  @Test
  void noMainSourceOutsideTheDefinitionsNamesAnElementwiseOpType() throws IOException {
    List<String> found = namings(root(), elementwiseTypes());
    assertEquals(List.of(), found, "elementwise op types named as strings (dispatch on Elementwise.primitive)");
  }

  /** The check itself fails on a switch over op names, as the device code was written before. */
  @Test
  void theCheckCatchesASwitchOnOpNames(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path f = dir.resolve("runtime-cpu/src/main/java/dev/kiln/runtime/Old.java");
    Files.createDirectories(f.getParent());
    Files.writeString(f, """
        class Old {
          static final java.util.Set<String> OPS = java.util.Set.of("Exp", "Tanh");
          static int f(String t) {
            return switch (t) {
              case "Sigmoid" -> 1;
              case "Identity" -> 2;
              default -> 0;
            };
          }
        }
        """);
    List<String> found = namings(dir, elementwiseTypes());
    assertEquals(List.of("runtime-cpu/src/main/java/dev/kiln/runtime/Old.java:2: \"Exp\"",
        "runtime-cpu/src/main/java/dev/kiln/runtime/Old.java:2: \"Tanh\"",
        "runtime-cpu/src/main/java/dev/kiln/runtime/Old.java:5: \"Sigmoid\""), found);
  }

  /** Each string literal naming one of {@code types} in a main source file under {@code root}, as file:line: literal. */
  private static List<String> namings(Path root, Set<String> types) throws IOException {
    List<Path> sources;
    try (Stream<Path> s = Files.walk(root)) {
      sources = s.filter(f -> f.toString().endsWith(".java") && f.toString().contains("/src/main/java/"))
          .filter(f -> !exempt(root, f)).sorted().toList();
    }
    List<String> found = new ArrayList<>();
    for (Path f : sources) {
      String[] lines = read(f).split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        Matcher m = LITERAL.matcher(lines[i]);
        while (m.find()) {
          if (types.contains(m.group(1))) {
            found.add(root.relativize(f) + ":" + (i + 1) + ": \"" + m.group(1) + "\"");
          }
        }
      }
    }
    return found;
  }

  private static boolean exempt(Path root, Path f) {
    String rel = "/" + root.relativize(f).toString().replace('\\', '/');
    return rel.startsWith(HARNESS) || ONNX.stream().anyMatch(rel::startsWith)
        || (rel.startsWith("/graph-ir/src/main/java/dev/kiln/graph/") && DEFINITIONS.contains(f.getFileName().toString()));
  }

  private static Path root() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("graph-ir")) && Files.isDirectory(p.resolve("runtime-cpu"))) {
        return p;
      }
    }
    throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
