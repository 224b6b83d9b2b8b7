package dev.kiln.cli;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import dev.kiln.onnx.OnnxModel;
import dev.kiln.runtime.Session;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Runs a graph file in a CPU Session: initializes its variables (runs every variable's "
        + "initializer), feeds .npy files, fetches values, prints a summary of each and writes them as .npy.",
        "Example: kiln run two_layer.kg --feed x=x.npy --feed y=y.npy --fetch loss --out results"})
final class RunCommand implements Callable<Integer>, Kiln.FileCommand {
  private static final int SHOWN = 6;

  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "graph file in Kiln's text format, or an ONNX model (.onnx; without --fetch its outputs are fetched)")
  Path file;

  @Override
  public Path file() {
    return file;
  }

  @Option(names = "--feed", paramLabel = "NAME=FILE.npy",
      description = "feed the value in a NumPy .npy file (f32, f64, i32, i64, bool, f16, i8, u8, i16) to output NAME (node or node:i)")
  Map<String, Path> feeds = new LinkedHashMap<>();

  @Option(names = "--fetch", paramLabel = "NAME", description = "fetch output NAME (node or node:i); repeatable")
  List<String> fetches = new ArrayList<>();

  @Option(names = "--target", paramLabel = "OP", description = "also run node OP, fetching nothing from it; repeatable")
  List<String> targets = new ArrayList<>();

  @Option(names = "--out", paramLabel = "DIR", description = "write each fetched value to DIR/NAME.npy ('/' and ':' in NAME become '_')")
  Path outDir;

  @Option(names = "--no-init", description = "do not run the variables' initializers before the run")
  boolean noInit;

  @Override
  public Integer call() throws IOException {
    Graph g;
    if (Kiln.isOnnx(file)) {
      OnnxModel model = OnnxModel.load(file);
      g = model.graph();
      if (fetches.isEmpty() && targets.isEmpty()) {
        // An ONNX model declares its outputs: fetch them all.
        model.outputs().forEach(o -> fetches.add(o.name()));
      }
    } else {
      if (fetches.isEmpty() && targets.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "Nothing to run: give at least one --fetch or --target");
      }
      g = Kiln.readGraph(file);
    }
    List<Output> fetchOutputs = new ArrayList<>();
    for (String name : fetches) {
      fetchOutputs.add(lookup(() -> g.output(name), "--fetch " + name));
    }
    List<Operation> targetOps = new ArrayList<>();
    for (String name : targets) {
      targetOps.add(lookup(() -> g.operation(name), "--target " + name));
    }
    Map<Output, Tensor> feedValues = new LinkedHashMap<>();
    for (Map.Entry<String, Path> f : feeds.entrySet()) {
      Output out = lookup(() -> g.output(f.getKey()), "--feed " + f.getKey());
      feedValues.put(out, readFeed(f.getValue()));
    }
    List<Tensor> values;
    try (Session session = new Session(g)) {
      if (!noInit && !g.variables().isEmpty()) {
        session.run(g.variables().stream().map(Variable::initializer).toArray(Operation[]::new));
      }
      Session.Runner runner = session.runner();
      feedValues.forEach(runner::feed);
      fetchOutputs.forEach(runner::fetch);
      targetOps.forEach(runner::addTarget);
      values = runner.run();
    }
    if (outDir != null) {
      Files.createDirectories(outDir);
    }
    PrintWriter out = spec.commandLine().getOut();
    for (int i = 0; i < values.size(); i++) {
      Tensor t = values.get(i);
      String name = fetchOutputs.get(i).name();
      String line = name + ": " + summary(t);
      if (outDir != null) {
        Path p = outDir.resolve(fileName(name));
        NpyIO.write(p, t);
        line += "  -> " + p;
      }
      out.println(line);
    }
    if (values.isEmpty()) {
      out.println("ran " + String.join(", ", targets));
    }
    out.flush();
    return 0;
  }

  private static Tensor readFeed(Path npy) {
    try {
      return NpyIO.read(npy);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read " + npy + ": " + Failure.reason(e), e);
    }
  }

  private <T> T lookup(java.util.function.Supplier<T> find, String what) {
    try {
      return find.get();
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new ParameterException(spec.commandLine(), what + ": " + e.getMessage() + " (" + file + ")");
    }
  }

  /** The file name for a fetched output: {@code w1/init:1} becomes {@code w1_init_1.npy}. */
  static String fileName(String outputName) {
    return outputName.replace('/', '_').replace(':', '_') + ".npy";
  }

  /** {@code f32[2,3] [1, 2, 3, 4, 5, 6] min 1 max 6 mean 3.5}: the first values and, for numbers, statistics. */
  static String summary(Tensor t) {
    StringBuilder sb = new StringBuilder(t.type().toString()).append(' ');
    int n = t.size();
    if (t.shape().rank() == 0) {
      return sb.append(element(t, 0)).toString();
    }
    sb.append('[');
    for (int i = 0; i < Math.min(n, SHOWN); i++) {
      sb.append(i > 0 ? ", " : "").append(element(t, i));
    }
    sb.append(n > SHOWN ? ", ...]" : "]");
    if (t.dtype() != DType.BOOL && n > 1) {
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      double sum = 0;
      for (int i = 0; i < n; i++) {
        double v = t.getDouble(i);
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
      }
      sb.append(" min ").append(number(min)).append(" max ").append(number(max))
          .append(" mean ").append(number(sum / n));
    }
    return sb.toString();
  }

  private static String element(Tensor t, int i) {
    return switch (t.dtype()) {
      case BOOL -> Boolean.toString(t.getDouble(i) != 0);
      case INT32, INT8, UINT8, INT16 -> Integer.toString(((int[]) HostBuffers.array(t))[i]);
      case INT64 -> Long.toString(((long[]) HostBuffers.array(t))[i]);
      case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> number(t.getDouble(i));
    };
  }

  /** Six significant digits, without trailing zeros: 0.5, 1234.57, 1.00000e+06. */
  static String number(double v) {
    String s = String.format(Locale.ROOT, "%.6g", v);
    if (s.contains(".") && !s.contains("e")) {
      s = s.replaceAll("0+$", "");
      s = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
    return s;
  }
}
