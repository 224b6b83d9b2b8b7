package dev.kiln.optimizer;

import java.util.LinkedHashMap;
import java.util.Map;

/** Counters that passes report (nodes removed, nodes fused, bytes saved, ...), per pass, in order. */
public final class PassStatistics {
  /** Empty statistics, filled as the passes run. */
  public PassStatistics() {}

  private final Map<String, Map<String, Long>> counters = new LinkedHashMap<>();
  private String current = "";

  void enter(String pass) {
    current = pass;
    counters.computeIfAbsent(pass, k -> new LinkedHashMap<>());
  }

  /** Adds {@code n} to the current pass's counter {@code what}. */
  public void add(String what, long n) {
    counters.computeIfAbsent(current, k -> new LinkedHashMap<>()).merge(what, n, Long::sum);
  }

  public long get(String pass, String what) {
    return counters.getOrDefault(pass, Map.of()).getOrDefault(what, 0L);
  }

  public Map<String, Map<String, Long>> asMap() {
    return counters;
  }

  /** One line per pass: {@code cse: nodes removed 3, ...}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    counters.forEach((pass, c) -> {
      sb.append(pass).append(':');
      if (c.isEmpty()) {
        sb.append(" no change");
      }
      String sep = " ";
      for (Map.Entry<String, Long> e : c.entrySet()) {
        sb.append(sep).append(e.getKey()).append(' ').append(e.getValue());
        sep = ", ";
      }
      sb.append('\n');
    });
    return sb.toString();
  }
}
