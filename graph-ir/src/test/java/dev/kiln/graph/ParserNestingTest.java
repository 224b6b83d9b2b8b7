package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Deeply nested subgraphs give a GraphParseException at the block that is too deep, never an Error. */
class ParserNestingTest {
  /** {@code depth} Identity nodes, each owning a subgraph holding the next, one per line. */
  static String nested(int depth) {
    StringBuilder sb = new StringBuilder("graph {\n  %x = Placeholder() {dtype = f32, shape = [2]}\n");
    for (int i = 0; i < depth; i++) {
      sb.append("%n").append(i).append(" = Identity(%x) subgraph () -> () {\n");
      sb.append("%x = Placeholder() {dtype = f32, shape = [2]}\n");
    }
    sb.append("}\n".repeat(depth));
    return sb.append("}\n").toString();
  }

  /** What parsing {@code text} threw (or null) on a thread with a {@code stackKb} KiB stack. */
  private static Throwable parseOnThread(String text, int stackKb) throws InterruptedException {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        Graph.parse(text, "deep.kg");
      } catch (Throwable e) {
        thrown.set(e);
      }
    }, "small-stack-parser", stackKb * 1024L);
    t.start();
    t.join();
    return thrown.get();
  }

  @Test
  void nineHundredNestedBlocksAreAParseErrorWithAPosition() {
    String text = nested(900);
    Throwable e = org.junit.jupiter.api.Assertions.assertThrows(Throwable.class, () -> Graph.parse(text, "deep.kg"));
    GraphParseException p = assertInstanceOf(GraphParseException.class, e);
    assertEquals("deep.kg:131:21: subgraphs nested more than 64 deep", p.getMessage());
  }

  @Test
  void onASmallThreadStackToo() throws InterruptedException {
    for (int depth : new int[] {65, 900, 5000}) {
      Throwable e = parseOnThread(nested(depth), 256);
      GraphParseException p = assertInstanceOf(GraphParseException.class, e, "depth " + depth);
      assertEquals("deep.kg:131:21: subgraphs nested more than 64 deep", p.getMessage());
    }
  }

  @Test
  void nestingUpToTheLimitParsesAndPrintsOnASmallStack() throws InterruptedException {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicReference<String> printed = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        Graph g = Graph.parse(nested(64));
        printed.set(Graph.parse(g.toText()).toText());
      } catch (Throwable e) {
        thrown.set(e);
      }
    }, "small-stack-parser", 256 * 1024L);
    t.start();
    t.join();
    assertEquals(null, thrown.get());
    assertTrue(printed.get().split("\n").length > 64 * 2, printed.get());
  }

  @Test
  void deepGarbageIsASyntaxErrorNotAnError() throws InterruptedException {
    // Unbalanced openers that ANTLR would descend into before seeing a mistake.
    String text = "graph {\n" + "%a = Identity(%x) subgraph () -> () {\n".repeat(3000);
    Throwable e = parseOnThread(text, 256);
    assertInstanceOf(GraphParseException.class, e);
  }

  @Test
  void graphsBuiltInCodeAreHeldToTheSameLimit() {
    Graph inner = new Graph();
    inner.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.of(2)).build();
    for (int depth = 1; depth <= 64; depth++) {
      Graph outer = new Graph();
      Output p = outer.opBuilder("Parameter", "p").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.of(2))
          .build().output(0);
      outer.opBuilder("Identity", "n").addInput(p).addSubgraph(new Subgraph(inner, List.of(), List.of())).build();
      inner = outer;
    }
    Graph tooDeep = new Graph();
    Output x = tooDeep.opBuilder("Placeholder", "x").setAttr("dtype", DType.FLOAT32).setAttr("shape", Shape.of(2))
        .build().output(0);
    Subgraph body = new Subgraph(inner, List.of(), List.of());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> tooDeep.opBuilder("Identity", "n").addInput(x).addSubgraph(body).build());
    assertEquals("Identity 'n': subgraphs nested more than 64 deep", e.getMessage());
    assertEquals(1, tooDeep.size());
  }
}
