package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.optimizer.Optimizer;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.PassStatistics;
import dev.kiln.optimizer.Program;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.CpuConstantEvaluator;
import dev.kiln.runtime.MemoryReport;
import dev.kiln.runtime.Session;
import java.util.HashMap;
import java.util.Map;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "opt", mixinStandardHelpOptions = true,
    description = {"Runs optimizer passes on a graph file and prints the optimized graph (as mlir-opt does).",
        "The roots are the --fetch and --target nodes, or else every node nothing else uses.",
        "Example: kiln opt two_layer.kg --passes=fold,cse,simplify --fetch loss --target init --print-after-all"})
final class OptCommand implements Callable<Integer>, Kiln.FileCommand {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "graph file in Kiln's text format")
  Path file;

  @Override
  public Path file() {
    return file;
  }

  @Option(names = "--passes", split = ",", paramLabel = "PASS", completionCandidates = KnownPasses.class,
      description = "passes to run, in order (default: the Session's pipeline, ${DEFAULT-VALUE}); known: ${COMPLETION-CANDIDATES}")
  List<String> passes = new ArrayList<>(Optimizer.defaultPipeline());

  /** The registry's pass names, for the help text. */
  static final class KnownPasses implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return Optimizer.passNames().iterator();
    }
  }

  @Option(names = "--print-after-all", description = "print the graph after each pass, under a '// ----- after PASS -----' line")
  boolean printAfterAll;

  @Option(names = "--stats", description = "print what each pass did (nodes removed, folded, merged, ...) to stderr")
  boolean stats;

  @Option(names = "--fetch", paramLabel = "NAME", description = "a value the program computes (node or node:i); repeatable")
  List<String> fetches = new ArrayList<>();

  @Option(names = "--target", paramLabel = "OP", description = "a node the program runs (e.g. an initializer); repeatable")
  List<String> targets = new ArrayList<>();

  @Option(names = "--feed", paramLabel = "NAME", description = "a value that runs feed (node or node:i): never folded away; repeatable")
  List<String> feeds = new ArrayList<>();

  @Option(names = "--report", description = "print the memory plan of a Session run of the roots to stderr (peak bytes, "
      + "known before anything runs); every Placeholder is fed zeros of its shape")
  boolean report;

  @Option(names = "--dim", paramLabel = "N", defaultValue = "1",
      description = "size of unknown dimensions (a batch of ?) in --report (default: ${DEFAULT-VALUE})")
  int unknownDim;

  @Override
  public Integer call() {
    Graph g = Kiln.readGraph(file);
    PassManager pm;
    try {
      pm = PassManager.of(passes, Optimizer.knownPasses(CpuConstantEvaluator.instance(), dev.kiln.runtime.CpuKernels.registry()));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--passes: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    if (printAfterAll) {
      pm.afterEach((name, p) -> out.print("// ----- after " + name + " -----\n" + p.graph().toText()));
    }
    PassStatistics statistics = new PassStatistics();
    Program result = pm.run(program(g), statistics);
    if (!printAfterAll) {
      out.print(result.graph().toText());
    }
    out.flush();
    if (stats) {
      spec.commandLine().getErr().print(statistics);
      spec.commandLine().getErr().flush();
    }
    if (report) {
      spec.commandLine().getErr().println(memoryReport(g));
      spec.commandLine().getErr().flush();
    }
    return 0;
  }

  /** The Session's plan for the roots (default pipeline), compiled and not run. */
  private MemoryReport memoryReport(Graph g) {
    Program p = program(g);
    Map<Output, Tensor> feeds = new HashMap<>();
    for (Operation op : g.operations()) {
      if (op.type().equals("Placeholder")) {
        feeds.put(op.output(0), zeros(op.output(0)));
      }
    }
    for (Output o : p.fed()) {
      feeds.put(o, zeros(o));
    }
    try (Session s = new Session(g)) {
      return MemoryReport.of(s, feeds, p.fetches(), p.targets());
    }
  }

  private Tensor zeros(Output o) {
    int[] dims = o.shape().dims();
    for (int i = 0; i < dims.length; i++) {
      dims[i] = dims[i] < 0 ? unknownDim : dims[i];
    }
    return Tensor.zeros(o.dtype(), Shape.of(dims));
  }

  private Program program(Graph g) {
    if (fetches.isEmpty() && targets.isEmpty()) {
      Program sinks = Program.ofSinks(g);
      return new Program(g, sinks.fetches(), sinks.targets(), fed(g));
    }
    List<Output> f = new ArrayList<>();
    for (String name : fetches) {
      f.add(lookup(() -> g.output(name), "--fetch " + name));
    }
    List<Operation> t = new ArrayList<>();
    for (String name : targets) {
      t.add(lookup(() -> g.operation(name), "--target " + name));
    }
    return new Program(g, f, t, fed(g));
  }

  private Set<Output> fed(Graph g) {
    Set<Output> fed = new HashSet<>();
    for (String name : feeds) {
      fed.add(lookup(() -> g.output(name), "--feed " + name));
    }
    return fed;
  }

  private <T> T lookup(java.util.function.Supplier<T> find, String option) {
    try {
      return find.get();
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage() + " (" + file + ")");
    }
  }
}
