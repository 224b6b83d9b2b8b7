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
  void theTwoLayerNetworkHasNothingToOptimizeWhenAllItsSinksAreRoots() throws Exception {
    assertEquals(new Result(0, Files.readString(PRINTED), ""), kiln("opt", TWO_LAYER));
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
    assertEquals(new Result(2, "", "--passes: unknown pass 'fuse2' (known: prune, fold, cse, simplify)\n"
        + "Try 'kiln opt --help' for more information.\n"), kiln("opt", TWO_LAYER, "--passes=prune,fuse2"));
    assertEquals(new Result(2, "", "--fetch nope: no node named 'nope' in the graph (" + TWO_LAYER + ")\n"
        + "Try 'kiln opt --help' for more information.\n"), kiln("opt", TWO_LAYER, "--fetch", "nope"));
  }
}
