package dev.kiln.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Drives each subcommand on the README's two-layer network, with captured output. */
class KilnCliTest {
  private static final String TWO_LAYER = "../examples/graphs/two_layer.kg";
  private static final String X = "../examples/graphs/x.npy";
  private static final String Y = "../examples/graphs/y.npy";

  record Result(int code, String out, String err) {}

  static Result kiln(String... args) {
    return kiln(Kiln.commandLine(), args);
  }

  static Result kiln(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void printShowsTheNormalizedGraph() throws Exception {
    Result r = kiln("print", TWO_LAYER);
    assertEquals(new Result(0, Files.readString(Path.of("../graph-ir/src/test/resources/golden/two_layer.expected.kg")), ""), r);
  }

  @Test
  void printReportsParseErrorsWithFileLineAndColumn(@TempDir Path dir) throws Exception {
    Path bad = dir.resolve("bad.kg");
    Files.writeString(bad, "graph {\n  %x = Placeholder() {dtype = f32, shape = [2]}\n  %y = Neg(%x {\n}\n");
    assertEquals(new Result(1, "", "kiln print: " + bad + ":3:15: expected ',' or ')' but found '{'\n"),
        kiln("print", bad.toString()));
    assertEquals(new Result(1, "", "kiln print: cannot read graph file nowhere.kg: no such file\n"),
        kiln("print", "nowhere.kg"));
  }

  @Test
  void dotDrawsNodesEdgesAndControlEdges(@TempDir Path dir) throws Exception {
    Result r = kiln("dot", TWO_LAYER);
    assertEquals(0, r.code(), r.err());
    List<String> lines = r.out().lines().map(String::strip).toList();
    assertTrue(lines.contains("\"h\" [label=\"h\\nMatMul\\nf32[?,100]\"];"), r.out());
    assertTrue(lines.contains("\"x\" -> \"h\" [label=\"f32[?,1000]\"];"), r.out());
    assertTrue(lines.contains("\"w1/Assign\" -> \"init\" [style=dashed, arrowhead=odot];"), r.out());
    Path out = dir.resolve("g.dot");
    assertEquals(new Result(0, "", ""), kiln("dot", TWO_LAYER, "-o", out.toString()));
    assertEquals(r.out(), Files.readString(out));
  }

  @Test
  void dotSvgWithoutGraphvizSaysHowToInstallIt() {
    Result r = kiln("dot", TWO_LAYER, "--svg", "--dot-program", "/nonexistent/dot");
    assertEquals(new Result(1, "", "kiln dot: --svg needs Graphviz's '/nonexistent/dot' program, which is not "
        + "installed. Install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
        + "or leave out --svg to get DOT text.\n"), r);
  }

  @Test
  void dotSvgRendersThroughGraphviz(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(DotCommand.findProgram("dot").isPresent(), "Graphviz's dot is not installed");
    Path svg = dir.resolve("g.svg");
    assertEquals(new Result(0, "", ""), kiln("dot", TWO_LAYER, "--svg", "-o", svg.toString()));
    String s = Files.readString(svg);
    assertTrue(s.contains("<svg") && s.contains("MatMul") && s.contains("f32[?,100]"), s);
  }

  @Test
  void runComputesTheLossOfTheTwoLayerNetwork(@TempDir Path dir) throws Exception {
    Result r = kiln("run", TWO_LAYER, "--feed", "x=" + X, "--feed", "y=" + Y, "--fetch", "loss", "--fetch", "y_pred",
        "--fetch", "w1", "--fetch", "w2", "--out", dir.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(4, lines.size(), r.out());
    assertTrue(lines.get(0).startsWith("loss: f32[] ") && lines.get(0).endsWith("  -> " + dir.resolve("loss.npy")), r.out());
    assertTrue(lines.get(1).startsWith("y_pred: f32[8,10] ["), r.out());

    // Recompute from the fetched weights and the inputs, in double precision.
    float[] x = NpyIO.read(Path.of(X)).toFloatArray();
    float[] y = NpyIO.read(Path.of(Y)).toFloatArray();
    Tensor w1t = NpyIO.read(dir.resolve("w1.npy"));
    Tensor w2t = NpyIO.read(dir.resolve("w2.npy"));
    assertEquals("f32[1000,100]", w1t.type().toString());
    float[] w1 = w1t.toFloatArray();
    float[] w2 = w2t.toFloatArray();
    double[] yPred = new double[80];
    double[] tolerance = new double[80];
    double loss = 0;
    for (int i = 0; i < 8; i++) {
      double[] h = new double[100];
      double[] hAbs = new double[100];
      for (int k = 0; k < 1000; k++) {
        for (int j = 0; j < 100; j++) {
          h[j] += (double) x[i * 1000 + k] * w1[k * 100 + j];
          hAbs[j] += Math.abs((double) x[i * 1000 + k] * w1[k * 100 + j]);
        }
      }
      for (int c = 0; c < 10; c++) {
        double s = 0;
        double scale = 0;
        for (int j = 0; j < 100; j++) {
          s += Math.max(h[j], 0) * w2[j * 10 + c];
          // float32 rounding grows with the magnitudes summed, in both layers
          scale += 1e-5 * Math.abs(Math.max(h[j], 0) * w2[j * 10 + c]) + 1e-6 * hAbs[j] * Math.abs(w2[j * 10 + c]);
        }
        yPred[i * 10 + c] = s;
        tolerance[i * 10 + c] = scale;
        loss += (s - y[i * 10 + c]) * (s - y[i * 10 + c]);
      }
    }
    float[] gotPred = NpyIO.read(dir.resolve("y_pred.npy")).toFloatArray();
    for (int i = 0; i < 80; i++) {
      assertEquals(yPred[i], gotPred[i], tolerance[i], "y_pred[" + i + "]");
    }
    float gotLoss = NpyIO.read(dir.resolve("loss.npy")).floatValue();
    assertEquals(loss, gotLoss, 1e-4 * loss);
    assertTrue(loss > 1000, "weights are standard-normal draws, not zeros: loss " + loss);
    assertEquals("loss: f32[] " + RunCommand.number(gotLoss) + "  -> " + dir.resolve("loss.npy"), lines.get(0));
  }

  @Test
  void runWithATargetOnly() {
    assertEquals(new Result(0, "ran init\n", ""), kiln("run", TWO_LAYER, "--target", "init"));
  }

  @Test
  void runUsageErrorsExitWithTwo() {
    assertEquals(new Result(2, "", "Nothing to run: give at least one --fetch or --target\n"
        + "Try 'kiln run --help' for more information.\n"), kiln("run", TWO_LAYER));
    assertEquals(new Result(2, "", "--fetch nope: no node named 'nope' in the graph (" + TWO_LAYER + ")\n"
        + "Try 'kiln run --help' for more information.\n"), kiln("run", TWO_LAYER, "--fetch", "nope"));
    Result r = kiln("run", TWO_LAYER, "--bogus");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("Unknown option: '--bogus'"), r.err());
  }

  @Test
  void runFailuresExitWithOne() {
    // y.npy is f32[8,10] but x is f32[?,1000]: the Session refuses the feed.
    Result r = kiln("run", TWO_LAYER, "--feed", "x=" + Y, "--fetch", "h");
    assertEquals(1, r.code());
    assertTrue(r.err().startsWith("kiln run: ") && r.err().contains("x"), r.err());
    assertEquals(new Result(1, "", "kiln run: cannot read missing.npy: no such file\n"),
        kiln("run", TWO_LAYER, "--feed", "x=missing.npy", "--fetch", "h"));
    assertEquals(new Result(1, "", "kiln run: " + TWO_LAYER + ": not a .npy file (no \\x93NUMPY magic)\n"),
        kiln("run", TWO_LAYER, "--feed", "x=" + TWO_LAYER, "--fetch", "h"));
  }

  @Test
  void versionHelpAndMissingSubcommand() {
    Result v = kiln("--version");
    assertEquals(0, v.code());
    assertTrue(v.out().startsWith("kiln 0.1.0-SNAPSHOT\n"), v.out());
    Result h = kiln("--help");
    assertEquals(0, h.code());
    assertTrue(h.out().contains("print") && h.out().contains("dot") && h.out().contains("run"), h.out());
    Result none = kiln();
    assertEquals(new Result(2, "", "Missing subcommand: print, dot, run, opt, import or help\n"
        + "Try 'kiln --help' for more information.\n"), none);
  }

  @Test
  void aBadNpyFeedIsOneLineNamingTheFile(@TempDir Path dir) throws Exception {
    // a version-2 .npy whose header length, 0x7fffffff, runs far past the file's end
    byte[] dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n".getBytes(StandardCharsets.ISO_8859_1);
    Path bad = Files.write(dir.resolve("bad.npy"), ByteBuffer.allocate(12 + dict.length).order(ByteOrder.LITTLE_ENDIAN)
        .put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(0x7fffffff).put(dict).array());
    assertEquals(new Result(1, "", "kiln run: " + bad + ": truncated .npy header: it declares 2147483647 bytes, "
        + "the file has 58 after the header length\n"), kiln("run", TWO_LAYER, "--feed", "x=" + bad, "--fetch", "h"));
    Path dirAsFeed = Files.createDirectory(dir.resolve("feed.npy"));
    Result r = kiln("run", TWO_LAYER, "--feed", "x=" + dirAsFeed, "--fetch", "h");
    assertEquals(1, r.code());
    assertTrue(r.err().startsWith("kiln run: cannot read " + dirAsFeed + ": "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  @Test
  void aFailedRunNamesTheGraphFile() {
    // y.npy is f32[8,10] but x is f32[?,1000]: the Session refuses the feed
    Result r = kiln("run", TWO_LAYER, "--feed", "x=" + Y, "--fetch", "h");
    assertEquals(1, r.code());
    assertTrue(r.err().startsWith("kiln run: " + TWO_LAYER + ": "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  /** A subcommand that fails as asked, to drive the failure handling. */
  @Command(name = "fail")
  static final class Fail implements Callable<Integer> {
    @Option(names = "--with")
    String with;

    @Override
    public Integer call() throws Exception {
      switch (with) {
        case "oom" -> throw new OutOfMemoryError("Java heap space");
        case "stack" -> throw new StackOverflowError();
        case "npe" -> throw new NullPointerException();
        case "denied" -> throw new AccessDeniedException("out/x.npy");
        default -> throw new IllegalStateException("line one\nline two");
      }
    }
  }

  private static Result fail(String... args) {
    CommandLine cl = Kiln.commandLine();
    cl.addSubcommand(new Fail());
    return kiln(cl, args);
  }

  @Test
  void everyFailureIsOneLineWithoutAStackTrace() {
    assertEquals(new Result(1, "", "kiln fail: out of memory (Java heap space); give Java more heap, e.g. "
        + "KILN_JAVA_OPTS=-Xmx8g\n"), fail("fail", "--with", "oom"));
    assertEquals(new Result(1, "", "kiln fail: stack overflow: the input nests too deeply\n"),
        fail("fail", "--with", "stack"));
    assertEquals(new Result(1, "", "kiln fail: internal error: java.lang.NullPointerException (rerun with "
        + "--stacktrace to see where)\n"), fail("fail", "--with", "npe"));
    assertEquals(new Result(1, "", "kiln fail: out/x.npy: permission denied\n"), fail("fail", "--with", "denied"));
    assertEquals(new Result(1, "", "kiln fail: line one line two\n"), fail("fail", "--with", "lines"));
  }

  @Test
  void stackTraceOnRequest() {
    for (String[] args : List.of(new String[] {"--stacktrace", "fail", "--with", "npe"},
        new String[] {"fail", "--with", "npe", "--stacktrace"})) {
      Result r = fail(args);
      assertEquals(1, r.code());
      List<String> lines = r.err().lines().toList();
      assertEquals("kiln fail: internal error: java.lang.NullPointerException", lines.get(0));
      assertEquals("java.lang.NullPointerException", lines.get(1));
      assertTrue(lines.get(2).startsWith("\tat dev.kiln.cli.KilnCliTest$Fail.call("), r.err());
    }
    assertTrue(kiln("--help").out().contains("--stacktrace"));
  }
}
