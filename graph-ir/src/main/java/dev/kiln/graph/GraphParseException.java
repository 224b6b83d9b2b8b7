package dev.kiln.graph;

import java.util.Optional;

/**
 * A graph file that cannot be read: a syntax error, or a node that cannot be built (unknown op, an
 * input that does not exist, an attribute the op does not take or of the wrong type, a declared type
 * that disagrees with inference, subgraphs nested too deep, ...). The message reads
 * {@code file:line:col: what is wrong}, or {@code line:col: what is wrong} for text without a file.
 * Lines and columns count from 1.
 */
public final class GraphParseException extends IllegalArgumentException {
  private final String file;
  private final int line;
  private final int column;
  private final String detail;

  /** A problem at {@code line:column} (from 1) of {@code file} ("" when the text has no file name). */
  public GraphParseException(String file, int line, int column, String detail) {
    super((file.isEmpty() ? "" : file + ":") + line + ":" + column + ": " + detail);
    this.file = file;
    this.line = line;
    this.column = column;
    this.detail = detail;
  }

  /** The file name the text was read from, if any. */
  public Optional<String> file() {
    return file.isEmpty() ? Optional.empty() : Optional.of(file);
  }

  public int line() {
    return line;
  }

  public int column() {
    return column;
  }

  /** The message without its position. */
  public String detail() {
    return detail;
  }
}
