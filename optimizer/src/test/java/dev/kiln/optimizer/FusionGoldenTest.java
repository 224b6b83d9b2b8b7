package dev.kiln.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden tests of the fusion passes, text in and text out: passes/DIR/NAME.kg is parsed, the pass
 * runs, and the printed result must equal passes/DIR/NAME.expected.kg. Header comments choose the
 * program: {@code // fetch: a, b:1} (default: every sink), {@code // target: t}, {@code // fed: x}.
 */
class FusionGoldenTest {
  static Stream<String> fuse() {
    return Stream.of("chain", "bias_broadcast", "fetched_intermediate", "fed_intermediate", "no_cycle",
        "control_deps", "single_op", "two_groups_join", "mixed_dtypes", "stateful_barrier");
  }

  static Stream<String> fuseMatMul() {
    return Stream.of("dense_relu", "bias_only", "maximum_zero", "used_elsewhere", "row_bias_sigmoid",
        "fetched_matmul");
  }

  @ParameterizedTest
  @MethodSource("fuse")
  void fuse(String name) {
    check("fuse/" + name, new FuseElementwise());
  }

  @ParameterizedTest
  @MethodSource("fuseMatMul")
  void fuseMatMul(String name) {
    check("fuse_matmul/" + name, new FuseMatMulEpilogue());
  }

  static void check(String name, Pass pass) {
    String input = resource(name + ".kg");
    Program p = program(Graph.parse(input, name + ".kg"), input);
    Program out = pass.run(p, new PassStatistics());
    String dir = System.getProperty("kiln.golden.dump");
    if (dir != null) { // writes the actual text for review when creating a new case
      try {
        java.nio.file.Path f = java.nio.file.Path.of(dir, name + ".expected.kg");
        java.nio.file.Files.createDirectories(f.getParent());
        java.nio.file.Files.writeString(f, out.graph().toText());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    assertEquals(resource(name + ".expected.kg"), out.graph().toText());
  }

  static Program program(Graph g, String text) {
    List<Output> fetches = new ArrayList<>();
    List<Operation> targets = new ArrayList<>();
    Set<Output> fed = new HashSet<>();
    boolean explicit = false;
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.startsWith("// fetch:")) {
        explicit = true;
        names(l).forEach(s -> fetches.add(g.output(s)));
      } else if (l.startsWith("// target:")) {
        explicit = true;
        names(l).forEach(s -> targets.add(g.operation(s)));
      } else if (l.startsWith("// fed:")) {
        names(l).forEach(s -> fed.add(g.output(s)));
      }
    }
    if (!explicit) {
      Program sinks = Program.ofSinks(g);
      return new Program(g, sinks.fetches(), sinks.targets(), fed);
    }
    return new Program(g, fetches, targets, fed);
  }

  private static List<String> names(String line) {
    return Stream.of(line.substring(line.indexOf(':') + 1).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  static String resource(String path) {
    try (InputStream in = FusionGoldenTest.class.getResourceAsStream("/passes/" + path)) {
      if (in == null) {
        throw new IllegalArgumentException("missing test resource passes/" + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
