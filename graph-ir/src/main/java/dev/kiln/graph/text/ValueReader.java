package dev.kiln.graph.text;

import dev.kiln.graph.*;

import dev.kiln.graph.text.KilnParser.FloatValueContext;
import dev.kiln.graph.text.KilnParser.IntListValueContext;
import dev.kiln.graph.text.KilnParser.IntValueContext;
import dev.kiln.graph.text.KilnParser.ScalarContext;
import dev.kiln.graph.text.KilnParser.ShapeValueContext;
import dev.kiln.graph.text.KilnParser.StringValueContext;
import dev.kiln.graph.text.KilnParser.TensorTypeContext;
import dev.kiln.graph.text.KilnParser.TensorValueContext;
import dev.kiln.graph.text.KilnParser.ValueContext;
import dev.kiln.graph.text.KilnParser.WordValueContext;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.antlr.v4.runtime.Token;

/** Turns attribute-value parse trees into attribute values, reporting bad ones at their position. */
final class ValueReader {
  private final GraphParser parser;

  ValueReader(GraphParser parser) {
    this.parser = parser;
  }

  Object value(ValueContext v) {
    return switch (v) {
      case IntValueContext c -> parseLong(c.INT().getSymbol(), "integer");
      case FloatValueContext c -> parseDouble(c.FLOAT().getSymbol());
      case StringValueContext c -> unquote(parser, c.STRING().getSymbol());
      case WordValueContext c -> word(c.ID().getSymbol());
      case ShapeValueContext c -> parser.shape(c.shape());
      case IntListValueContext c -> {
        List<Long> xs = new ArrayList<>();
        c.INT().forEach(t -> xs.add(parseLong(t.getSymbol(), "integer")));
        yield xs;
      }
      case TensorValueContext c -> tensor(c);
      default -> throw new AssertionError(v.getClass());
    };
  }

  private Object word(Token t) {
    String w = t.getText();
    switch (w) {
      case "true":
        return true;
      case "false":
        return false;
      case "nan":
        return Double.NaN;
      case "inf":
        return Double.POSITIVE_INFINITY;
      default:
        for (DType d : DType.values()) {
          if (d.shortName().equals(w)) {
            return d;
          }
        }
        throw parser.error(t, "unknown value '" + w + "' (expected a number, a string, true, false, nan, inf, "
            + "a dtype such as f32, a shape, array<...> or dense<...>)");
    }
  }

  TensorType tensorType(TensorTypeContext t) {
    return new TensorType(dtype(t.ID().getSymbol()), parser.shape(t.shape()));
  }

  private DType dtype(Token t) {
    for (DType d : DType.values()) {
      if (d.shortName().equals(t.getText())) {
        return d;
      }
    }
    throw parser.error(t, "unknown dtype '" + t.getText() + "' (expected one of " + DType.shortNames() + ")");
  }

  private long parseLong(Token t, String what) {
    try {
      return Long.parseLong(t.getText());
    } catch (NumberFormatException e) {
      throw parser.error(t, what + " " + t.getText() + " is out of range");
    }
  }

  private static double parseDouble(Token t) {
    return t.getText().equals("-inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(t.getText());
  }

  // ---------------------------------------------------------------- tensors

  private Tensor tensor(TensorValueContext c) {
    TensorType type = tensorType(c.tensorType());
    Shape shape = type.shape();
    if (!shape.isFullyDefined()) {
      throw parser.error(c.tensorType().getStart(), "a dense value needs a fully defined shape, got " + type);
    }
    try {
      shape.requireFitsInTensor("dense value " + type);
    } catch (IllegalArgumentException e) {
      throw parser.error(c.tensorType().getStart(), e.getMessage());
    }
    int n = shape.elementCount();
    Object data = c.denseList() != null
        ? fromList(type, n, c.denseList().scalar(), c.denseList().getStart())
        : fromBase64(type, n, c.STRING().getSymbol());
    return HostBuffers.adopt(type.dtype(), shape, data);
  }

  private Object fromList(TensorType type, int n, List<ScalarContext> xs, Token at) {
    if (xs.size() != n) {
      throw parser.error(at, "dense<" + type + "> needs " + n + " value" + (n == 1 ? "" : "s") + ", got " + xs.size());
    }
    Object data = HostBuffers.allocate(type.dtype(), n);
    for (int i = 0; i < n; i++) {
      Token t = xs.get(i).getStart();
      String s = t.getText();
      switch (data) {
        case float[] a when type.dtype().isNarrow() ->
            a[i] = Narrowing.toFloat(type.dtype(), isNumber(t) ? doubleOf(s) : nonFinite(t, type));
        case float[] a -> a[i] = isNumber(t) ? floatOf(s) : (float) nonFinite(t, type);
        case double[] a -> a[i] = isNumber(t) ? doubleOf(s) : nonFinite(t, type);
        case int[] a -> {
          long v = integer(t, type);
          if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE
              || (type.dtype().isNarrow() && !Narrowing.inRange(type.dtype(), v))) {
            throw parser.error(t, "value " + s + " is out of range for " + type.dtype().shortName());
          }
          a[i] = (int) v;
        }
        case long[] a -> a[i] = integer(t, type);
        case boolean[] a -> {
          if (!s.equals("true") && !s.equals("false")) {
            throw parser.error(t, "expected true or false for a bool value, got '" + s + "'");
          }
          a[i] = s.equals("true");
        }
        default -> throw new AssertionError(data);
      }
    }
    return data;
  }

  private static boolean isNumber(Token t) {
    return t.getType() != dev.kiln.graph.text.KilnLexer.ID;
  }

  private static float floatOf(String s) {
    return s.equals("-inf") ? Float.NEGATIVE_INFINITY : Float.parseFloat(s);
  }

  private static double doubleOf(String s) {
    return s.equals("-inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(s);
  }

  private double nonFinite(Token t, TensorType type) {
    return switch (t.getText()) {
      case "nan" -> Double.NaN;
      case "inf" -> Double.POSITIVE_INFINITY;
      default -> throw parser.error(t, "expected a number for a " + type.dtype().shortName() + " value, got '"
          + t.getText() + "'");
    };
  }

  private long integer(Token t, TensorType type) {
    if (t.getType() != dev.kiln.graph.text.KilnLexer.INT) {
      throw parser.error(t, "expected an integer for a " + type.dtype().shortName() + " value, got '"
          + t.getText() + "'");
    }
    return parseLong(t, "value");
  }

  private Object fromBase64(TensorType type, int n, Token t) {
    String text = t.getText();
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(text.substring(1, text.length() - 1));
    } catch (IllegalArgumentException e) {
      throw parser.error(t, "dense<" + type + ">: invalid base64 data");
    }
    long want = (long) n * type.dtype().byteSize();
    if (bytes.length != want) {
      throw parser.error(t, "dense<" + type + "> needs " + want + " bytes of data, got " + bytes.length);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    Object data = HostBuffers.allocate(type.dtype(), n);
    if (type.dtype().isNarrow()) {
      HostBuffers.decode(type.dtype(), buf, data, 0, n);
      return data;
    }
    switch (data) {
      case float[] a -> buf.asFloatBuffer().get(a);
      case double[] a -> buf.asDoubleBuffer().get(a);
      case int[] a -> buf.asIntBuffer().get(a);
      case long[] a -> buf.asLongBuffer().get(a);
      case boolean[] a -> {
        for (int i = 0; i < n; i++) {
          byte b = bytes[i];
          if (b != 0 && b != 1) {
            throw parser.error(t, "dense<" + type + ">: byte " + i + " is " + b + ", not a bool (0 or 1)");
          }
          a[i] = b == 1;
        }
      }
      default -> throw new AssertionError(data);
    }
    return data;
  }

  // ---------------------------------------------------------------- strings

  /** The value of a STRING token: quotes removed, escapes (\" \\ \n \t \r \\uXXXX) resolved. */
  static String unquote(GraphParser parser, Token t) {
    String s = t.getText();
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 1; i < s.length() - 1; i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case '"' -> sb.append('"');
        case '\\' -> sb.append('\\');
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'u' -> {
          String hex = i + 5 <= s.length() - 1 ? s.substring(i + 1, i + 5) : "";
          if (!hex.matches("[0-9a-fA-F]{4}")) {
            throw parser.error(t, "invalid \\u escape in string (expected 4 hex digits)");
          }
          sb.append((char) Integer.parseInt(hex, 16));
          i += 4;
        }
        default -> throw parser.error(t, "invalid escape '\\" + e + "' in string");
      }
    }
    return sb.toString();
  }
}
