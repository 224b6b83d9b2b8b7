package dev.kiln.cli;

import static dev.kiln.cli.KilnCliTest.kiln;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.cli.KilnCliTest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** {@code kiln opt} on the two-layer network of examples/graphs and on the optimizer's golden pipeline file. */
class OptCommandTest {
  private static final String TWO_LAYER = "../examples/graphs/two_layer.kg";
  private static final Path PRINTED = Path.of("../graph-ir/src/test/resources/golden/two_layer.expected.kg");
  private static final String REDUNDANT = "../optimizer/src/test/resources/passes/pipeline/two_layer.kg";
  private static final Path REDUNDANT_OPTIMIZED = Path.of("../optimizer/src/test/resources/passes/pipeline/two_layer.expected.kg");

  @Test
  void theTwoLayerNetworkHasNothingToRewriteWhenAllItsSinksAreRoots() throws Exception {
    assertEquals(new Result(0, Files.readString(PRINTED), ""), kiln("opt", TWO_LAYER, "--passes=prune,fold,cse,simplify"));
  }

  @Test
  void theDefaultPipelineFusesTheTwoLayerNetwork() throws Exception {
    Result r = kiln("opt", TWO_LAYER, "--print-after-all", "--stats");
    assertEquals(0, r.code(), r.err());
    String afterMatMul = r.out().substring(r.out().indexOf("// ----- after fuse_matmul -----"), r.out().indexOf("// ----- after fuse_conv -----"));
    assertEquals(true, afterMatMul.contains(
        "%h_relu = FusedMatMul(%x, %w1) {activation = \"relu\", transpose_a = false, transpose_b = false} : f32[?,100]"), afterMatMul);
    String afterFuse = r.out().substring(r.out().indexOf("// ----- after fuse -----"));
    // Sub, Square and the loss's Sum are one Fused node: the squared differences are never stored.
    assertEquals(true, afterFuse.contains("%fused = Fused(%y_pred, %y) : f32[]")
        && afterFuse.contains("%loss = Sum(%sq) {axes = array<0, 1>, keep_dims = false} : f32[]"), afterFuse);
    assertEquals(true, r.err().endsWith("fuse_matmul: nodes fused 2, fused nodes 1\n"
        + "fuse_conv: no change\n"
        + "fuse: fused nodes 1, nodes fused 3, reductions fused 1\n"), r.err());
  }

  @Test
  void reportGivesThePlansPeakBytesBeforeRunning() throws Exception {
    // batch 64: h_relu [64,100] f32 = 25600 bytes, y_pred [64,10] = 2560; the fused Sub+Square+Sum
    // folds the squares as it computes them, its scalar takes h_relu's dead buffer. Kernel calls:
    // FusedMatMul, MatMul, Fused and the fetch copy.
    Result r = kiln("opt", TWO_LAYER, "--fetch", "loss", "--report", "--dim", "64");
    assertEquals(0, r.code(), r.err());
    assertEquals("memory plan: peak 28160 bytes in 2 buffers (live peak 28160 bytes, 0 written in place), "
        + "4 kernel calls per run\n", r.err());
  }

  @Test
  void fetchingOnlyTheLossPrunesTheInitializersAndStatsSayHowMany() throws Exception {
    String expected = Files.readString(PRINTED).lines()
        .filter(l -> !l.contains("Assign") && !l.contains("%init "))
        .collect(Collectors.joining("\n", "", "\n"));
    assertEquals(new Result(0, expected, "prune: nodes removed 3\n"),
        kiln("opt", TWO_LAYER, "--fetch", "loss", "--passes=prune", "--stats"));
  }

  @Test
  void printAfterAllShowsTheGraphAfterEachPass() throws Exception {
    Result r = kiln("opt", REDUNDANT, "--fetch", "loss", "--target", "init", "--print-after-all",
        "--passes", "prune,fold,cse,simplify", "--stats");
    assertEquals(0, r.code(), r.err());
    List<String> headers = r.out().lines().filter(l -> l.startsWith("// -----")).toList();
    assertEquals(List.of("// ----- after prune -----", "// ----- after fold -----", "// ----- after cse -----",
        "// ----- after simplify -----"), headers);
    String last = r.out().substring(r.out().indexOf("// ----- after simplify -----\n") + 30);
    String golden = Files.readString(REDUNDANT_OPTIMIZED).lines().filter(l -> !l.startsWith("//"))
        .collect(Collectors.joining("\n", "", "\n"));
    assertEquals(golden, last);
    // After fold the constant scale is one Const, the duplicated Sub is still there until cse.
    String afterFold = r.out().substring(r.out().indexOf("after fold"), r.out().indexOf("after cse"));
    assertEquals(true, afterFold.contains("%half = Const() {value = dense<f32[]>[0.5]}") && afterFold.contains("%diff2 = Sub"));
    assertEquals("prune: nodes removed 1\n"
        + "fold: nodes folded 2, nodes removed 2\n" // two, and the folded twice_one that half absorbed
        + "cse: nodes merged 1\n"
        + "simplify: rule identity 1, rule div-one 1, nodes simplified 2, nodes removed 1\n", r.err());
  }

  @Test
  void badPassesAndNamesAreUsageErrors() {
    assertEquals(new Result(2, "", "--passes: unknown pass 'fuse2' (known: prune, fold, cse, loops, simplify, fuse_matmul_update, fuse_matmul, fuse_conv, fuse)\n"
        + "Try 'kiln opt --help' for more information.\n"), kiln("opt", TWO_LAYER, "--passes=prune,fuse2"));
    assertEquals(new Result(2, "", "--fetch nope: no node named 'nope' in the graph (" + TWO_LAYER + ")\n"
        + "Try 'kiln opt --help' for more information.\n"), kiln("opt", TWO_LAYER, "--fetch", "nope"));
  }

  @Test
  void printAfterAllShowsThePassesInsideLoopBodies() throws Exception {
    String loop = "../optimizer/src/test/resources/passes/pipeline/loop_body.kg";
    Result r = kiln("opt", loop, "--fetch", "while:1", "--print-after-all", "--passes", "cse,loops,fuse");
    assertEquals(0, r.code(), r.err());
    String afterCse = r.out().substring(r.out().indexOf("// ----- after cse -----"), r.out().indexOf("// ----- after loops -----"));
    // the body's duplicated Mul/Exp chain is merged inside the body
    assertEquals(true, afterCse.contains("%Mul_1 = Mul(%arg_1, %Exp)") && afterCse.contains("%Add_1 = Add(%Mul_1, %Mul_1)")
        && !afterCse.contains("%Exp_1"), afterCse);
    String afterLoops = r.out().substring(r.out().indexOf("// ----- after loops -----"), r.out().indexOf("// ----- after fuse -----"));
    // the invariant Exp(w * 2) is computed once, outside the loop
    assertEquals(true, afterLoops.contains("%while/Exp = Exp(%while/Mul) : f32[3]")
        && afterLoops.contains("%Mul_1 = Mul(%arg_1, %hoisted_0)"), afterLoops);
    String afterFuse = r.out().substring(r.out().indexOf("// ----- after fuse -----"));
    assertEquals(true, afterFuse.contains("%fused = Fused(%arg_1, %hoisted_0) : f32[3]"), afterFuse);
  }
}
