/** The {@code kiln} command line; an application, so it exports nothing. */
module dev.kiln.cli {
  requires dev.kiln.runtime;
  requires dev.kiln.onnx;
  requires info.picocli;

  // picocli reads and sets the commands' annotated fields reflectively.
  opens dev.kiln.cli to info.picocli;
}
