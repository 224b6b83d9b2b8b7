package dev.kiln.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.Graph;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What each pass counts, the fold size cap, the registry and the pass manager's observer. */
class PassStatisticsTest {
  private static final String GRAPH = """
      // fetch: out, dup
      graph {
        %x = Placeholder() {dtype = f32, shape = [4]}
        %dead = Exp(%x)
        %a = Const() {value = dense<f32[4]>[1, 2, 3, 4]}
        %b = Const() {value = dense<f32[]>[2]}
        %ab = Mul(%a, %b)
        %one = Const() {value = dense<f32[]>[1]}
        %s1 = Add(%x, %ab)
        %s2 = Add(%ab, %x)
        %m = Mul(%s1, %one)
        %n1 = Neg(%m)
        %n2 = Neg(%n1)
        %i = Identity(%n2)
        %out = Sub(%i, %s2)
        %dup = Sub(%i, %s2)
      }
      """;

  private static Program program() {
    return GoldenProgram.parse(GRAPH, "stats.kg");
  }

  @Test
  void eachPassCountsWhatItDid() {
    PassStatistics stats = new PassStatistics();
    PassManager pm = PassManager.of(Optimizer.defaultPipeline(), Optimizer.knownPasses(new ReferenceEvaluator(), TestKernels.host()));
    Program out = pm.run(program(), stats);
    assertEquals(Map.of(
        "prune", Map.of("nodes removed", 1L),
        "fold", Map.of("nodes folded", 1L, "nodes removed", 2L),
        "cse", Map.of("nodes merged", 2L),
        "loops", Map.of(),
        "simplify", Map.of("rule mul-one", 1L, "rule neg-neg", 1L, "rule identity", 1L,
            "nodes simplified", 3L, "nodes removed", 2L),
        "fuse_matmul_update", Map.of(),
        "fuse_matmul", Map.of(),
        "fuse_conv", Map.of(),
        "fuse", Map.of("fused nodes", 1L, "nodes fused", 2L)), stats.asMap());
    // x, ab (folded), s1, out: 4 of the 14 nodes are left, and s1 and out fuse into one node.
    assertEquals(List.of("x", "ab", "fused"), out.graph().operations().stream().map(o -> o.name()).toList());
    assertEquals("prune: nodes removed 1\n"
        + "fold: nodes folded 1, nodes removed 2\n"
        + "cse: nodes merged 2\n"
        + "loops: no change\n"
        + "simplify: rule mul-one 1, rule neg-neg 1, rule identity 1, nodes simplified 3, nodes removed 2\n"
        + "fuse_matmul_update: no change\n"
        + "fuse_matmul: no change\n"
        + "fuse_conv: no change\n"
        + "fuse: fused nodes 1, nodes fused 2\n",
        stats.toString());
  }

  @Test
  void aPassThatChangesNothingReturnsItsInputAndCountsNothing() {
    Program p = GoldenProgram.parse("graph {\n %x = Placeholder() {dtype = f32, shape = [2]}\n %y = Neg(%x)\n}\n", "t.kg");
    PassStatistics stats = new PassStatistics();
    Program out = PassManager.of(Optimizer.defaultPipeline(), Optimizer.knownPasses(new ReferenceEvaluator(), TestKernels.host())).run(p, stats);
    assertSame(p, out);
    assertEquals("prune: no change\nfold: no change\ncse: no change\nloops: no change\nsimplify: no change\nfuse_matmul_update: no change\n"
        + "fuse_matmul: no change\n"
        + "fuse_conv: no change\n"
        + "fuse: no change\n", stats.toString());
  }

  @Test
  void foldLeavesResultsOverTheCapAndDoesNotEvaluateThem() {
    String text = """
        // fetch: small, big
        graph {
          %a = Const() {value = dense<f32[4]>[1, 2, 3, 4]}
          %s = Const() {value = dense<f32[2]>[1, 2]}
          %small = Neg(%s)
          %big = Neg(%a)
        }
        """;
    ReferenceEvaluator eval = new ReferenceEvaluator();
    PassStatistics stats = new PassStatistics();
    Program out = new PassManager(List.of(new ConstantFold(eval, 3))).run(GoldenProgram.parse(text, "cap.kg"), stats);
    assertEquals(1, eval.calls);
    assertEquals(1L, stats.get("fold", "nodes folded"));
    assertEquals("Const", out.graph().operation("small").type());
    assertEquals("Neg", out.graph().operation("big").type());
    assertEquals("fold: maxElements must be >= 0, got -1",
        assertThrows(IllegalArgumentException.class, () -> new ConstantFold(eval, -1)).getMessage());
  }

  @Test
  void registryNamesThePassesAndRejectsAnUnknownOne() {
    assertEquals(List.of("prune", "fold", "cse", "loops", "simplify", "fuse_matmul_update", "fuse_matmul", "fuse_conv", "fuse"),
        Optimizer.defaultPipeline());
    assertEquals(List.of("prune", "fold", "loops", "simplify", "fuse_matmul_update", "fuse_matmul", "fuse_conv", "fuse"),
        Optimizer.defaultPipeline(ConstantEvaluator.none(), TestKernels.host(), List.of("cse")).passes().stream().map(Pass::name).toList());
    assertEquals("unknown pass 'fuze' (known: prune, fold, cse, loops, simplify, fuse_matmul_update, fuse_matmul, fuse_conv, fuse)", assertThrows(IllegalArgumentException.class,
        () -> Optimizer.defaultPipeline(ConstantEvaluator.none(), TestKernels.host(), List.of("fuze"))).getMessage());
    assertEquals("unknown pass 'csee' (known: prune, fold, cse, loops, simplify, fuse_matmul_update, fuse_matmul, fuse_conv, fuse)", assertThrows(IllegalArgumentException.class,
        () -> PassManager.of(List.of("csee"), Optimizer.knownPasses(ConstantEvaluator.none(), TestKernels.host()))).getMessage());
  }

  @Test
  void observerSeesEveryPassInOrder() {
    List<String> seen = new ArrayList<>();
    PassManager.of(Optimizer.defaultPipeline(), Optimizer.knownPasses(new ReferenceEvaluator(), TestKernels.host()))
        .afterEach((name, p) -> seen.add(name + ":" + p.graph().size()))
        .run(program());
    assertEquals(List.of("prune:13", "fold:11", "cse:9", "loops:9", "simplify:4", "fuse_matmul_update:4", "fuse_matmul:4", "fuse_conv:4", "fuse:3"), seen);
  }

  @Test
  void rewriterRefusesToReplaceAFedValue() {
    Graph g = Graph.parse("graph {\n %x = Placeholder() {dtype = f32, shape = [2]}\n %y = Neg(%x)\n}\n");
    Program p = new Program(g, List.of(g.output("y")), List.of(), java.util.Set.of(g.output("y")));
    Rewriter rw = new Rewriter(p);
    rw.copy(g.operation("x"));
    assertEquals("rewriter: fed value Neg 'y' f32[2] cannot be replaced", assertThrows(IllegalArgumentException.class,
        () -> rw.replace(g.operation("y"), rw.map(g.output("x")))).getMessage());
  }
}
