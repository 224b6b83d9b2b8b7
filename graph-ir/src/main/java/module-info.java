/**
 * Kiln's graph representation: {@code Graph}, {@code Ops}, {@code Tensor}, the op definitions and the text
 * format's reader and writer.
 */
module dev.kiln.graph {
  requires com.google.common;
  requires org.antlr.antlr4.runtime;

  exports dev.kiln.graph;
  // dev.kiln.graph.text (the ANTLR-generated lexer and parser) stays inside: GraphParser reads through it.
}
