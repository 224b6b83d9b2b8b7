package dev.kiln.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "print", mixinStandardHelpOptions = true,
    description = "Parses a graph file, infers every type and prints the graph in normalized form.")
final class PrintCommand implements Callable<Integer>, Kiln.FileCommand {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "graph file in Kiln's text format")
  Path file;

  @Override
  public Path file() {
    return file;
  }

  @Override
  public Integer call() {
    spec.commandLine().getOut().print(Kiln.readGraph(file).toText());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
