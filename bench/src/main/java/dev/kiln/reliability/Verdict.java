package dev.kiln.reliability;

/**
 * How one tried input ended: handled as the campaign requires, or failed in a named category
 * ("raw ArrayIndexOutOfBoundsException", "silent success", ...). {@code detail} is what happened
 * (the exception and its message, or the wrong value), for the report.
 */
public record Verdict(boolean handled, String category, String detail) {
  public static final String HANDLED = "handled";

  public static Verdict handled(String detail) {
    return new Verdict(true, HANDLED, detail);
  }

  public static Verdict failed(String category, String detail) {
    return new Verdict(false, category, detail);
  }
}
