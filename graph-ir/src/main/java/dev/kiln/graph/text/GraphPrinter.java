package dev.kiln.graph.text;

import dev.kiln.graph.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes a graph in Kiln's text format (grammar: {@code Kiln.g4}). The output is canonical: nodes in
 * creation order, attributes sorted, one spelling per value, so print(parse(print(g))) == print(g).
 */
public final class GraphPrinter {
  /** Constants with more elements than this are written as base64 of their little-endian bytes. */
  static final int INLINE_LIMIT = 16;

  private static final Pattern BARE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Set<String> KEYWORDS = Set.of("graph", "subgraph", "array", "dense");

  private GraphPrinter() {}

  public static String print(Graph g) {
    StringBuilder sb = new StringBuilder("graph ");
    if (!g.name().isEmpty()) {
      sb.append(name(g.name())).append(' ');
    }
    sb.append("{\n");
    block(sb, g, 1);
    return sb.append("}\n").toString();
  }

  private static void block(StringBuilder sb, Graph g, int depth) {
    for (Operation op : g.operations()) {
      node(sb, op, depth);
    }
  }

  private static void node(StringBuilder sb, Operation op, int depth) {
    String indent = "  ".repeat(depth);
    sb.append(indent).append('%').append(op.name()).append(" = ").append(op.type()).append('(');
    List<String> operands = new ArrayList<>();
    op.inputs().forEach(in -> operands.add(ref(in)));
    op.controlInputs().forEach(c -> operands.add("^%" + c.name()));
    sb.append(String.join(", ", operands)).append(')');
    Map<String, Object> attrs = op.attrs().asMap();
    if (!attrs.isEmpty()) {
      List<String> items = new ArrayList<>();
      attrs.forEach((k, v) -> items.add(name(k) + " = " + value(v)));
      sb.append(" {").append(String.join(", ", items)).append('}');
    }
    if (!op.device().isEmpty()) {
      sb.append(" @").append(quote(op.device()));
    }
    sb.append(" : ");
    List<TensorType> types = op.outputTypes();
    if (types.size() == 1) {
      sb.append(types.get(0));
    } else {
      sb.append('(').append(String.join(", ", types.stream().map(TensorType::toString).toList())).append(')');
    }
    sb.append('\n');
    for (Subgraph s : op.subgraphs()) {
      sb.append(indent).append("  subgraph (")
          .append(String.join(", ", s.parameters().stream().map(GraphPrinter::ref).toList()))
          .append(") -> (")
          .append(String.join(", ", s.results().stream().map(GraphPrinter::ref).toList()))
          .append(") {\n");
      block(sb, s.graph(), depth + 2);
      sb.append(indent).append("  }\n");
    }
  }

  static String ref(Output o) {
    return "%" + o.name();
  }

  /** An attribute or graph name: bare when it is an identifier, else quoted. */
  static String name(String n) {
    return BARE_NAME.matcher(n).matches() && !KEYWORDS.contains(n) ? n : quote(n);
  }

  public static String value(Object v) {
    return switch (v) {
      case Long l -> Long.toString(l);
      case Double d -> formatDouble(d);
      case Boolean b -> Boolean.toString(b);
      case String s -> quote(s);
      case DType d -> d.shortName();
      case Shape s -> s.toString();
      case Tensor t -> dense(t);
      case List<?> l -> "array<" + String.join(", ", l.stream().map(Object::toString).toList()) + ">";
      default -> throw new IllegalArgumentException("cannot print attribute value of type " + v.getClass());
    };
  }

  /** Java's shortest repr that parses back to the same double; nan/inf spelled as words. */
  static String formatDouble(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    return Double.toString(d);
  }

  static String formatFloat(float f) {
    if (Float.isNaN(f)) {
      return "nan";
    }
    if (Float.isInfinite(f)) {
      return f > 0 ? "inf" : "-inf";
    }
    return Float.toString(f);
  }

  private static String dense(Tensor t) {
    StringBuilder sb = new StringBuilder("dense<").append(t.type()).append('>');
    Object data = HostBuffers.array(t);
    int n = t.size();
    if (n <= INLINE_LIMIT) {
      sb.append('[');
      for (int i = 0; i < n; i++) {
        if (i > 0) {
          sb.append(", ");
        }
        sb.append(switch (data) {
          case float[] a -> formatFloat(a[i]);
          case double[] a -> formatDouble(a[i]);
          case int[] a -> Integer.toString(a[i]);
          case long[] a -> Long.toString(a[i]);
          case boolean[] a -> Boolean.toString(a[i]);
          default -> throw new AssertionError(data);
        });
      }
      return sb.append(']').toString();
    }
    ByteBuffer buf = ByteBuffer.allocate(n * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    if (t.dtype().isNarrow()) {
      HostBuffers.encode(t.dtype(), data, 0, n, buf);
      return sb.append('"').append(Base64.getEncoder().encodeToString(buf.array())).append('"').toString();
    }
    switch (data) {
      case float[] a -> buf.asFloatBuffer().put(a);
      case double[] a -> buf.asDoubleBuffer().put(a);
      case int[] a -> buf.asIntBuffer().put(a);
      case long[] a -> buf.asLongBuffer().put(a);
      case boolean[] a -> {
        for (boolean b : a) {
          buf.put((byte) (b ? 1 : 0));
        }
      }
      default -> throw new AssertionError(data);
    }
    return sb.append('"').append(Base64.getEncoder().encodeToString(buf.array())).append('"').toString();
  }

  /** A string literal: quotes, backslashes and non-printing characters escaped. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
