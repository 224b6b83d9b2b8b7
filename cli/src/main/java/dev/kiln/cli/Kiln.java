package dev.kiln.cli;

import dev.kiln.graph.Graph;
import dev.kiln.onnx.OnnxModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code kiln} command line: {@code print}, {@code dot}, {@code run} and {@code opt} on graph
 * files in Kiln's text format. Exit codes: 0 success, 1 failure (a graph file that does not parse, a
 * failed run), 2 usage error.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, versionProvider = Kiln.Version.class,
    description = "Kiln: a static-graph machine-learning compiler and runtime for the JVM.%n"
        + "Works on graph files in Kiln's text format (.kg) and on ONNX models (.onnx), which 'import' converts.",
    subcommands = {PrintCommand.class, DotCommand.class, RunCommand.class, OptCommand.class, ImportCommand.class,
        CommandLine.HelpCommand.class},
    footer = {"", "A failure prints one line, 'kiln COMMAND: FILE: what is wrong'; --stacktrace (or the environment "
        + "variable KILN_DEBUG=1) adds the stack trace.",
        "Exit codes: 0 success, 1 failure (bad graph file, failed run), 2 usage error."})
public final class Kiln implements Runnable {
  @Spec
  CommandSpec spec;

  @Option(names = "--stacktrace", scope = ScopeType.INHERIT,
      description = "on failure, print the stack trace after the one-line message (as KILN_DEBUG=1 does)")
  boolean stacktrace;

  /** A subcommand that works on one file, which its failures are about unless they name another. */
  interface FileCommand {
    Path file();
  }

  public static void main(String[] args) {
    int code;
    try {
      code = commandLine().execute(args);
    } catch (RuntimeException | Error e) {
      // picocli's own failures, outside any command
      System.err.println("kiln: " + Failure.describe(e, Optional.empty(), debugFromEnvironment()));
      if (debugFromEnvironment()) {
        e.printStackTrace();
      }
      code = CommandLine.ExitCode.SOFTWARE;
    }
    System.exit(code);
  }

  /** The configured command line; tests call {@code execute} on it with their own out/err writers. */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Kiln());
    // picocli hands Exceptions to the handler below but lets Errors through: wrap them too
    cl.setExecutionStrategy(parsed -> {
      try {
        return new CommandLine.RunLast().execute(parsed);
      } catch (Error e) {
        List<CommandLine> commands = parsed.asCommandLineList();
        throw new CommandLine.ExecutionException(commands.get(commands.size() - 1), e.toString(), e);
      }
    });
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      Throwable failure = e instanceof CommandLine.ExecutionException x && x.getCause() != null ? x.getCause() : e;
      boolean trace = debugFromEnvironment() || stackTraceAsked(parsed);
      Optional<Path> file = cmd.getCommand() instanceof FileCommand f ? Optional.ofNullable(f.file()) : Optional.empty();
      cmd.getErr().println("kiln " + cmd.getCommandName() + ": " + Failure.describe(failure, file, trace));
      if (trace) {
        failure.printStackTrace(cmd.getErr());
      }
      cmd.getErr().flush();
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
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: print, dot, run, opt, import or help");
  }

  private static boolean stackTraceAsked(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
      if (p.hasMatchedOption("--stacktrace")) {
        return true;
      }
    }
    return false;
  }

  private static boolean debugFromEnvironment() {
    String v = System.getenv("KILN_DEBUG");
    return v != null && !v.isEmpty() && !v.equals("0");
  }

  /** Reads a graph file (an ONNX model when it ends in .onnx); a parse error's message starts with {@code file:line:col:}. */
  static Graph readGraph(Path file) {
    return isOnnx(file) ? OnnxModel.load(file).graph() : Graph.parse(file);
  }

  static boolean isOnnx(Path file) {
    return file.getFileName() != null && file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".onnx");
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
