package dev.kiln.cli;

import dev.kiln.graph.Output;
import dev.kiln.onnx.OnnxModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Imports an ONNX model and writes it as a graph file in Kiln's text format, which print, dot, "
        + "run and opt then take; lists the model's inputs and outputs with their Kiln names. A model with "
        + "unsupported operators fails with every one of them, its count and its nodes.",
        "Example: kiln import model.onnx --out model.kg"})
final class ImportCommand implements Callable<Integer>, Kiln.FileCommand {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "ONNX model (.onnx)")
  Path file;

  @Option(names = "--out", paramLabel = "FILE.kg", required = true, description = "the graph file to write")
  Path out;

  @Override
  public Path file() {
    return file;
  }

  @Override
  public Integer call() throws IOException {
    OnnxModel model = OnnxModel.load(file);
    String text = model.graph().toText();
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(out, text);
    PrintWriter w = spec.commandLine().getOut();
    w.printf("%s: %d nodes written to %s%n", file, model.graph().size(), out);
    list(w, "input", model.inputNames(), model.inputs());
    list(w, "output", model.outputNames(), model.outputs());
    w.flush();
    return 0;
  }

  private static void list(PrintWriter w, String what, List<String> names, List<Output> outs) {
    for (int i = 0; i < names.size(); i++) {
      Output o = outs.get(i);
      w.printf("  %s %s: %s %s%n", what, names.get(i), o.name(), o.type());
    }
  }
}
