package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.runtime.Session;
import dev.kiln.runtime.SessionOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * ONNX's backend node tests (Debian's libonnx-testdata): each model imported, run with the optimizer on
 * and off, and compared with the expected outputs at ONNX's backend tolerance. A supported test that
 * crashes or mismatches fails this test, and so does a pass count below the checked-in floor.
 */
class NodeConformanceTest {
  static final Path DATA = Paths.get(System.getProperty("kiln.onnx.testdata", "/usr/share/libonnx-testdata/data/node"));
  static final double RTOL = 1e-3;
  static final double ATOL = 1e-7;

  enum Outcome { PASS, FAIL, UNSUPPORTED, KNOWN_BAD, PASS_FROZEN }

  record Result(String test, String op, Outcome outcome, String detail) {}

  @Test
  void nodeTests() throws IOException {
    assumeTrue(Files.isDirectory(DATA), "ONNX node test data not found at " + DATA
        + " (apt-get install libonnx-testdata, or -Dkiln.onnx.testdata=DIR)");
    Map<String, String> knownBad = resourceMap("onnx-known-bad.txt");
    int floor = Integer.parseInt(resource("onnx-conformance-floor.txt").strip());
    List<Path> tests;
    try (Stream<Path> s = Files.list(DATA)) {
      tests = s.filter(Files::isDirectory).sorted().toList();
    }
    List<Result> results = new ArrayList<>();
    for (Path dir : tests) {
      results.add(run(dir, knownBad));
    }
    Map<String, int[]> perOp = new TreeMap<>();
    Map<String, Integer> causes = new TreeMap<>();
    int[] total = new int[5];
    StringBuilder report = new StringBuilder();
    for (Result r : results) {
      perOp.computeIfAbsent(r.op, k -> new int[5])[r.outcome.ordinal()]++;
      total[r.outcome.ordinal()]++;
      if (r.outcome == Outcome.UNSUPPORTED) {
        causes.merge(cause(r.detail), 1, Integer::sum);
      }
      if (r.outcome != Outcome.PASS && r.outcome != Outcome.PASS_FROZEN) {
        report.append(r.outcome).append(' ').append(r.test).append(": ").append(r.detail.replace('\n', ' ')).append('\n');
      }
    }
    StringBuilder table = new StringBuilder(String.format("%-36s %5s %6s %5s %5s %5s%n", "operator", "pass", "frozen", "fail", "unsup", "bad"));
    perOp.forEach((op, c) -> table.append(String.format("%-36s %5d %6d %5d %5d %5d%n", op, c[0], c[4], c[1], c[2], c[3])));
    table.append(String.format("%-36s %5d %6d %5d %5d %5d  of %d tests; passing: %d%n", "TOTAL", total[0], total[4],
        total[1], total[2], total[3], results.size(), total[0] + total[4]));
    table.append("(frozen: passes once the model's integer and scalar inputs are bound to the data set's values at"
        + " import, as Kiln needs shapes, axes and bounds at import)\n");
    StringBuilder causeText = new StringBuilder("unsupported by cause:\n");
    causes.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
        .forEach(e -> causeText.append(String.format("%5d  %s%n", e.getValue(), e.getKey())));
    System.out.println(table);
    System.out.println(causeText);
    Path out = Paths.get("target", "onnx-conformance.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table + "\n" + causeText + "\n" + report);
    List<String> failures = results.stream().filter(r -> r.outcome == Outcome.FAIL)
        .map(r -> r.test + ": " + r.detail).toList();
    assertTrue(failures.isEmpty(), failures.size() + " supported node test(s) failed:\n" + String.join("\n", failures));
    assertTrue(total[0] + total[4] >= floor, "only " + (total[0] + total[4]) + " node tests pass, below the floor of " + floor
        + " in onnx-conformance-floor.txt");
  }

  /** A short cause for the unsupported summary: the operator list or the message without node names. */
  private static String cause(String detail) {
    String d = detail.replaceAll("^.*?: (node '[^']*' \\(([A-Za-z]+)\\): )", "$2: ");
    d = d.replaceAll("'[^']*'", "'…'").replaceAll("\\[[-0-9, ]*\\]", "[…]").replaceAll("\\d+", "N");
    int nl = d.indexOf('\n');
    if (d.contains("unsupported operator type")) {
      return "operator " + detail.replaceAll(".*unsupported operator type\\(s\\): ", "").replaceAll(" x\\d+ \\([^)]*\\)", "");
    }
    return nl < 0 ? d : d.substring(0, nl);
  }

  static Result run(Path dir, Map<String, String> knownBad) {
    String name = dir.getFileName().toString();
    ModelProto proto;
    try {
      proto = ModelProto.parseFrom(Files.readAllBytes(dir.resolve("model.onnx")));
    } catch (IOException e) {
      return new Result(name, "?", Outcome.FAIL, "cannot read model: " + e);
    }
    String op = proto.getGraph().getNodeCount() == 1 ? proto.getGraph().getNode(0).getOpType() : "(expanded functions)";
    if (knownBad.containsKey(name)) {
      return new Result(name, op, Outcome.KNOWN_BAD, knownBad.get(name));
    }
    OnnxModel model = null;
    boolean freeze = false;
    try {
      model = OnnxModel.fromProto(proto, name, ImportOptions.defaults());
    } catch (UnsupportedOnnxException e) {
      if (!e.getMessage().contains("depends on run-time data")) {
        return new Result(name, op, Outcome.UNSUPPORTED, e.getMessage());
      }
      freeze = true;
    } catch (RuntimeException e) {
      return new Result(name, op, Outcome.FAIL, "import crashed: " + e);
    }
    List<Path> sets;
    try (Stream<Path> s = Files.list(dir)) {
      sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
    } catch (IOException e) {
      return new Result(name, op, Outcome.FAIL, e.toString());
    }
    try {
      for (Path set : sets) {
        List<Tensor> inputs = read(set, "input_", name, declaredTypes(proto.getGraph().getInputList(), proto));
        List<Tensor> expected = read(set, "output_", name, declaredTypes(proto.getGraph().getOutputList(), proto));
        OnnxModel m = model;
        List<Tensor> fed = inputs;
        if (freeze) {
          Map<String, Tensor> frozen = new HashMap<>();
          fed = new ArrayList<>();
          List<String> names = graphInputs(proto);
          for (int i = 0; i < inputs.size() && i < names.size(); i++) {
            Tensor t = inputs.get(i);
            if (!t.dtype().isFloating() || t.shape().rank() == 0) {
              frozen.put(names.get(i), t);
            } else {
              fed.add(t);
            }
          }
          m = null;
          for (int attempt = 0; m == null; attempt++) {
            try {
              m = OnnxModel.fromProto(proto, name, ImportOptions.defaults().withFrozenInputs(frozen));
            } catch (UnsupportedOnnxException e) {
              // Also freeze a floating-point graph input that the message names (Resize's scales, say).
              String named = names.stream().filter(nm -> e.getMessage().contains("'" + nm + "'")
                  && !frozen.containsKey(nm)).findFirst().orElse(null);
              if (named == null || attempt > names.size() || !e.getMessage().contains("depends on run-time data")) {
                return new Result(name, op, Outcome.UNSUPPORTED, e.getMessage());
              }
              frozen.put(named, inputs.get(names.indexOf(named)));
            }
          }
          fed = new ArrayList<>();
          for (int i = 0; i < inputs.size() && i < names.size(); i++) {
            if (!frozen.containsKey(names.get(i))) {
              fed.add(inputs.get(i));
            }
          }
        }
        for (boolean optimize : new boolean[] {true, false}) {
          String where = set.getFileName() + (optimize ? " (optimized)" : " (unoptimized)");
          String mismatch = runOnce(m, fed, expected, optimize);
          if (mismatch != null) {
            return new Result(name, op, Outcome.FAIL, where + ": " + mismatch);
          }
        }
      }
    } catch (UnsupportedOnnxException e) {
      return new Result(name, op, Outcome.UNSUPPORTED, e.getMessage());
    } catch (RuntimeException | StackOverflowError e) {
      return new Result(name, op, Outcome.FAIL, "run crashed: " + e);
    }
    return new Result(name, op, freeze ? Outcome.PASS_FROZEN : Outcome.PASS, "");
  }

  private static List<String> graphInputs(ModelProto proto) {
    java.util.Set<String> init = new java.util.HashSet<>();
    proto.getGraph().getInitializerList().forEach(t -> init.add(t.getName()));
    return proto.getGraph().getInputList().stream().map(v -> v.getName()).filter(n -> !init.contains(n)).toList();
  }

  /** The element types the model declares for its graph inputs (less initializers) or outputs, in order. */
  private static List<Integer> declaredTypes(List<dev.kiln.onnx.proto.OnnxProto.ValueInfoProto> values, ModelProto proto) {
    java.util.Set<String> init = new java.util.HashSet<>();
    proto.getGraph().getInitializerList().forEach(t -> init.add(t.getName()));
    return values.stream().filter(v -> !init.contains(v.getName())).map(v -> v.getType().getTensorType().getElemType())
        .toList();
  }

  private static List<Tensor> read(Path set, String prefix, String test, List<Integer> declared) {
    List<Tensor> out = new ArrayList<>();
    for (int i = 0; ; i++) {
      Path p = set.resolve(prefix + i + ".pb");
      if (!Files.exists(p)) {
        return out;
      }
      TensorProto t;
      try {
        t = TensorProto.parseFrom(Files.readAllBytes(p));
      } catch (IOException e) {
        throw new UnsupportedOnnxException(test + ": " + p.getFileName() + " is not a tensor (a sequence or optional)");
      }
      if (t.getDataType() == TensorProto.DataType.UINT16_VALUE && i < declared.size()
          && declared.get(i) == TensorProto.DataType.BFLOAT16_VALUE) {
        // NumPy has no bfloat16: ONNX's test data stores a declared bfloat16 tensor as its uint16 bit patterns.
        t = t.toBuilder().setDataType(TensorProto.DataType.BFLOAT16_VALUE).build();
      }
      out.add(Tensors.fromProto(t, test + " " + p.getFileName()));
    }
  }

  /** Runs the model once; null when every output matches, else what differs. */
  static String runOnce(OnnxModel model, List<Tensor> inputs, List<Tensor> expected, boolean optimize) {
    List<Output> ins = model.inputs();
    List<Output> outs = model.outputs();
    if (inputs.size() != ins.size() || expected.size() != outs.size()) {
      throw new UnsupportedOnnxException("the data set has " + inputs.size() + " inputs and " + expected.size()
          + " outputs, the model " + ins.size() + " and " + outs.size() + " (optional inputs)");
    }
    Map<Output, Tensor> feeds = new HashMap<>();
    for (int i = 0; i < ins.size(); i++) {
      feeds.put(ins.get(i), inputs.get(i));
    }
    List<Tensor> actual;
    try (Session s = new Session(model.graph(), SessionOptions.builder().optimize(optimize).build())) {
      actual = s.run(feeds, outs.toArray(Output[]::new));
    }
    for (int k = 0; k < outs.size(); k++) {
      String d = compare(actual.get(k), expected.get(k));
      if (d != null) {
        return "output " + k + ": " + d;
      }
    }
    return null;
  }

  static String compare(Tensor a, Tensor e) {
    if (a.dtype() != e.dtype()) {
      return "dtype " + a.dtype() + ", expected " + e.dtype();
    }
    if (!a.shape().equals(e.shape())) {
      return "shape " + a.shape() + ", expected " + e.shape();
    }
    for (int i = 0; i < e.size(); i++) {
      double x = a.getDouble(i);
      double y = e.getDouble(i);
      boolean ok = Double.isNaN(y) ? Double.isNaN(x)
          : Double.isInfinite(y) ? x == y
          : Math.abs(x - y) <= ATOL + RTOL * Math.abs(y);
      if (!ok) {
        return "element " + i + " is " + x + ", expected " + y;
      }
    }
    return null;
  }

  static String resource(String name) throws IOException {
    try (InputStream in = NodeConformanceTest.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** "name reason..." lines; # starts a comment. */
  static Map<String, String> resourceMap(String name) throws IOException {
    Map<String, String> m = new HashMap<>();
    for (String line : resource(name).split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      int sp = l.indexOf(' ');
      m.put(sp < 0 ? l : l.substring(0, sp), sp < 0 ? "" : l.substring(sp + 1).strip());
    }
    return m;
  }
}
