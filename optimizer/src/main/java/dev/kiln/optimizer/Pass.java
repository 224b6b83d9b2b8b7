package dev.kiln.optimizer;

/**
 * One rewrite of a {@link Program}. A pass never changes the values of the program's fetches, the
 * effects of its targets (assigns, random draws), or the ordering that control dependencies impose;
 * it returns a new program (or the same one when nothing changed) and counts what it did.
 */
public interface Pass {
  /** The short name used in {@code --passes=} lists and statistics, e.g. {@code cse}. */
  String name();

  Program run(Program program, PassStatistics stats);
}
