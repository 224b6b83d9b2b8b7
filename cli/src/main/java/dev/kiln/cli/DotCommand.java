package dev.kiln.cli;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "dot", mixinStandardHelpOptions = true,
    description = {"Draws a graph file as Graphviz DOT: nodes labelled with op and shape, edges with the "
        + "types they carry, control edges dashed, nodes that own subgraphs as clusters, devices as colours.",
        "With --svg, renders it through Graphviz's dot program."})
final class DotCommand implements Callable<Integer>, Kiln.FileCommand {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", description = "graph file in Kiln's text format")
  Path file;

  @Override
  public Path file() {
    return file;
  }

  @Option(names = "--svg", description = "render SVG with Graphviz's dot program instead of printing DOT")
  boolean svg;

  @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "write to OUT instead of standard output")
  Path output;

  @Option(names = "--dot-program", paramLabel = "PATH", defaultValue = "dot",
      description = "the Graphviz dot program for --svg (default: ${DEFAULT-VALUE}, found on the PATH)")
  String dotProgram;

  @Override
  public Integer call() throws IOException, InterruptedException {
    String dot = Kiln.readGraph(file).toDot();
    byte[] result = dot.getBytes(StandardCharsets.UTF_8);
    if (svg) {
      Optional<Path> program = findProgram(dotProgram);
      if (program.isEmpty()) {
        spec.commandLine().getErr().println("kiln dot: --svg needs Graphviz's '" + dotProgram
            + "' program, which is not installed. Install Graphviz (Debian/Ubuntu: apt-get install graphviz; "
            + "macOS: brew install graphviz), or leave out --svg to get DOT text.");
        return 1;
      }
      result = render(program.get(), result);
    }
    if (output != null) {
      Files.write(output, result);
    } else {
      spec.commandLine().getOut().print(new String(result, StandardCharsets.UTF_8));
      spec.commandLine().getOut().flush();
    }
    return 0;
  }

  /** The program as a path, or found in a PATH directory, if it is executable. */
  static Optional<Path> findProgram(String name) {
    if (name.contains(File.separator)) {
      Path p = Path.of(name);
      return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, name);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  private static byte[] render(Path program, byte[] dot) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(program.toString(), "-Tsvg").start();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread errReader = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
    try (OutputStream in = p.getOutputStream()) {
      in.write(dot);
    }
    byte[] svg = p.getInputStream().readAllBytes();
    int code = p.waitFor();
    errReader.join();
    if (code != 0) {
      throw new IOException(program + " -Tsvg failed (exit " + code + "): "
          + err.toString(StandardCharsets.UTF_8).strip());
    }
    return svg;
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try {
      in.transferTo(out);
    } catch (IOException e) {
      // the process ended; what was read is kept
    }
  }
}
