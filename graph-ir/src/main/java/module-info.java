/**
 * Kiln's graph representation: {@code Graph}, {@code Ops}, {@code Tensor}, the op definitions and the text
 * format's reader and writer.
 */
module dev.kiln.graph {
  requires com.google.common;
  requires org.antlr.antlr4.runtime;

  exports dev.kiln.graph;
  // dev.kiln.graph.text (the reader and writer of the text format, DOT output and the ANTLR-generated
  // lexer and parser) stays inside: users reach it through Graph.parse, Graph.toText and Graph.toDot.
}
