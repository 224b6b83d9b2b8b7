package dev.kiln.optimizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden tests, text in and text out, in the style of MLIR's FileCheck tests: each
 * {@code passes/<pass>/NAME.kg} runs through pass {@code <pass>} (or the {@code // passes:} list) and
 * must print exactly as {@code NAME.expected.kg}. Running the pass(es) again on the result changes
 * nothing (one sweep reaches the fixpoint). To regenerate the expected files after an intended change,
 * run with {@code -Dkiln.updateGolden=true} and review the diff before committing.
 */
class PassGoldenTest {
  private static final Path ROOT = Path.of("src/test/resources/passes");
  private static final boolean UPDATE = Boolean.getBoolean("kiln.updateGolden");

  @TestFactory
  Stream<DynamicTest> goldenFiles() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    try (Stream<Path> files = Files.walk(ROOT)) {
      for (Path in : files.filter(f -> f.toString().endsWith(".kg") && !f.toString().endsWith(".expected.kg")).sorted().toList()) {
        String pass = in.getParent().getFileName().toString();
        tests.add(DynamicTest.dynamicTest(pass + "/" + in.getFileName(), () -> check(pass, in)));
      }
    }
    assertTrue(tests.size() >= 20, "golden files found: " + tests.size());
    return tests.stream();
  }

  private static void check(String pass, Path in) throws IOException {
    String text = Files.readString(in);
    List<String> names = GoldenProgram.directive(text, "passes");
    PassManager pm = PassManager.of(names.isEmpty() ? List.of(pass) : names,
        Optimizer.knownPasses(new ReferenceEvaluator(), TestKernels.host()));
    Program out = pm.run(GoldenProgram.parse(text, in.toString()));
    String printed = GoldenProgram.print(out);
    Path expected = in.resolveSibling(in.getFileName().toString().replace(".kg", ".expected.kg"));
    if (UPDATE) {
      Files.writeString(expected, printed);
    }
    assertEquals(Files.readString(expected), printed, "output of " + in);
    String again = GoldenProgram.print(pm.run(GoldenProgram.parse(printed, expected.toString())));
    assertEquals(printed, again, "a second run changed " + expected);
  }
}
