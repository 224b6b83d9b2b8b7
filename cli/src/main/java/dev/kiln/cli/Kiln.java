package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphParseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code kiln} command line: {@code print}, {@code dot}, {@code run} and {@code opt} on graph
 * files in Kiln's text format. Exit codes: 0 success, 1 failure (a graph file that does not parse, a
 * failed run), 2 usage error.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, versionProvider = Kiln.Version.class,
    description = "Kiln: a static-graph machine-learning compiler and runtime for the JVM.%n"
        + "Works on graph files in Kiln's text format (.kg).",
    subcommands = {PrintCommand.class, DotCommand.class, RunCommand.class, OptCommand.class,
        CommandLine.HelpCommand.class},
    footer = {"", "Exit codes: 0 success, 1 failure (bad graph file, failed run), 2 usage error."})
public final class Kiln implements Runnable {
  @Spec
  CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line; tests call {@code execute} on it with their own out/err writers. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Kiln());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      String message = switch (e) {
        case GraphParseException p -> p.getMessage();
        case UncheckedIOException io -> io.getMessage();
        default -> e.getMessage() != null ? e.getMessage() : e.toString();
      };
      cmd.getErr().println("kiln " + cmd.getCommandName() + ": " + message);
      return CommandLine.ExitCode.SOFTWARE;
    });
    cl.setParameterExceptionHandler((e, args) -> {
      CommandLine cmd = e.getCommandLine();
      cmd.getErr().println(e.getMessage());
      cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
      return CommandLine.ExitCode.USAGE;
    });
    return cl;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: print, dot, run, opt or help");
  }

  /** Reads a graph file; a parse error's message starts with {@code file:line:col:}. */
  static Graph readGraph(Path file) {
    return Graph.parse(file);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Kiln.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {"kiln " + p.getProperty("version", "(unknown version)"),
          "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
    }
  }
}
