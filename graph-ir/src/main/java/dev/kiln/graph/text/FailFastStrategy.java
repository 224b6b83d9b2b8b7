package dev.kiln.graph.text;

import dev.kiln.graph.*;

import dev.kiln.graph.text.KilnLexer;
import dev.kiln.graph.text.KilnParser;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.antlr.v4.runtime.DefaultErrorStrategy;
import org.antlr.v4.runtime.InputMismatchException;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.misc.IntervalSet;

/**
 * ANTLR error handling for the text format: no recovery, the first syntax error is thrown as a
 * {@link GraphParseException} reading {@code expected ')' but found '{'}. The expected set is the
 * parser's own, in token-type order, so messages are deterministic.
 */
final class FailFastStrategy extends DefaultErrorStrategy {
  private final BiFunction<Token, String, GraphParseException> error;

  FailFastStrategy(BiFunction<Token, String, GraphParseException> error) {
    this.error = error;
  }

  @Override
  public void reportError(Parser recognizer, RecognitionException e) {
    throw fail(e.getOffendingToken(), e.getExpectedTokens());
  }

  @Override
  public void recover(Parser recognizer, RecognitionException e) {
    throw fail(e.getOffendingToken(), e.getExpectedTokens());
  }

  @Override
  public Token recoverInline(Parser recognizer) {
    // As DefaultErrorStrategy does: expect what was possible where the last optional part began.
    InputMismatchException e = nextTokensContext == null
        ? new InputMismatchException(recognizer)
        : new InputMismatchException(recognizer, nextTokensState, nextTokensContext);
    throw fail(e.getOffendingToken(), e.getExpectedTokens());
  }

  @Override
  protected void reportUnwantedToken(Parser recognizer) {
    throw fail(recognizer.getCurrentToken(), getExpectedTokens(recognizer));
  }

  @Override
  protected void reportMissingToken(Parser recognizer) {
    throw fail(recognizer.getCurrentToken(), getExpectedTokens(recognizer));
  }

  private GraphParseException fail(Token found, IntervalSet expected) {
    return switch (found.getType()) {
      case KilnLexer.BAD_CHAR -> error.apply(found, "unexpected character " + show(found.getText()));
      case KilnLexer.UNTERMINATED_STRING -> error.apply(found, "unterminated string");
      default -> error.apply(found, "expected " + describe(expected) + " but found " + describeToken(found));
    };
  }

  private static String describe(IntervalSet set) {
    List<String> names = new ArrayList<>();
    for (int type : set.toList()) {
      names.add(tokenName(type));
    }
    if (names.isEmpty()) {
      return "nothing";
    }
    if (names.size() == 1) {
      return names.get(0);
    }
    return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
  }

  private static String tokenName(int type) {
    return switch (type) {
      case Token.EOF -> "end of input";
      case KilnLexer.REF -> "%name";
      case KilnLexer.FLOAT -> "a float";
      case KilnLexer.INT -> "an integer";
      case KilnLexer.ID -> "an identifier";
      case KilnLexer.STRING -> "a string";
      default -> {
        String literal = KilnParser.VOCABULARY.getLiteralName(type);
        yield literal != null ? literal : KilnParser.VOCABULARY.getDisplayName(type);
      }
    };
  }

  private static String describeToken(Token t) {
    if (t.getType() == Token.EOF) {
      return "end of input";
    }
    String text = t.getText();
    return show(text.length() > 24 ? text.substring(0, 21) + "..." : text);
  }

  /** Quotes text for a message, escaping characters that would not show. */
  private static String show(String text) {
    StringBuilder sb = new StringBuilder("'");
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('\'').toString();
  }
}
