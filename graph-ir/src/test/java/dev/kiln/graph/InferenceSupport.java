package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.function.Executable;

/**
 * Helpers for inference tests, and the extension that checks a test's {@link Covers} claim against
 * the op types present in the graphs it built through {@link #newOps()}.
 */
final class InferenceSupport implements BeforeEachCallback, AfterEachCallback {
  private static final ThreadLocal<List<Graph>> GRAPHS = ThreadLocal.withInitial(ArrayList::new);

  /** A scope over a new graph that the coverage check will inspect. */
  static Ops newOps() {
    Graph g = new Graph();
    GRAPHS.get().add(g);
    return Ops.create(g);
  }

  /**
   * A placeholder (automatically named) of a type written as TensorType prints it: {@code f32[?,3]},
   * {@code i64[]}, {@code bool[*]}.
   */
  static Output in(Ops tf, String type) {
    int open = type.indexOf('[');
    DType d = DType.fromName(type.substring(0, open));
    String body = type.substring(open + 1, type.length() - 1);
    Shape s;
    if (body.equals("*")) {
      s = Shape.unknown();
    } else if (body.isEmpty()) {
      s = Shape.scalar();
    } else {
      s = Shape.of(Arrays.stream(body.split(",")).mapToInt(x -> x.equals("?") ? -1 : Integer.parseInt(x)).toArray());
    }
    return tf.opBuilder("Placeholder").setAttr("dtype", d).setAttr("shape", s).build().output(0);
  }

  static void assertType(String expected, Output o) {
    assertEquals(expected, o.type().toString(), () -> "type of " + o.name());
  }

  /**
   * Asserts {@code body} throws an IllegalArgumentException with exactly {@code message} and leaves the
   * graph as it was.
   */
  static void assertFails(String message, Ops tf, Executable body) {
    Graph g = tf.graph();
    List<Operation> before = g.operations();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, body);
    assertEquals(message, e.getMessage());
    assertEquals(before, g.operations(), "a failed build must leave the graph unchanged");
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    GRAPHS.get().clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Covers covers = context.getRequiredTestMethod().getAnnotation(Covers.class);
    List<Graph> graphs = List.copyOf(GRAPHS.get());
    GRAPHS.get().clear();
    if (covers == null || context.getExecutionException().isPresent()) {
      return;
    }
    Set<String> built = new TreeSet<>();
    for (Graph g : graphs) {
      g.operations().forEach(op -> built.add(op.type()));
    }
    for (String type : covers.value()) {
      assertTrue(built.contains(type), () -> "@Covers names " + type + " but the test built none; built " + built);
    }
  }
}
