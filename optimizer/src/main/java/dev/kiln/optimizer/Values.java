package dev.kiln.optimizer;

import dev.kiln.graph.Output;

/**
 * How a pass sees a source value while it rebuilds a program: its counterpart so far and whether
 * that is fed. Over a {@link Rewriter}, or over the program unchanged, for a dry run that finds out
 * whether a pass has anything to do before it rebuilds the graph.
 */
interface Values {
  Output map(Output source);

  boolean isFed(Output value);

  static Values of(Rewriter rw) {
    return new Values() {
      @Override
      public Output map(Output source) {
        return rw.map(source);
      }

      @Override
      public boolean isFed(Output value) {
        return rw.isFed(value);
      }
    };
  }

  /** The program as it is: every value its own counterpart. */
  static Values of(Program p) {
    return new Values() {
      @Override
      public Output map(Output source) {
        return source;
      }

      @Override
      public boolean isFed(Output value) {
        return p.fed().contains(value);
      }
    };
  }
}
