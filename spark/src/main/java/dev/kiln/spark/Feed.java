package dev.kiln.spark;

import java.io.Serializable;
import java.util.Objects;

/** A placeholder of the graph fed from a column of the examples: {@code Feed.of("x", "features")}. */
public record Feed(String placeholder, String column) implements Serializable {
  public Feed {
    Objects.requireNonNull(placeholder, "Feed: placeholder is null");
    Objects.requireNonNull(column, "Feed: column is null");
  }

  public static Feed of(String placeholder, String column) {
    return new Feed(placeholder, column);
  }
}
