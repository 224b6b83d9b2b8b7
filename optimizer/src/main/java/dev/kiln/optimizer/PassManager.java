package dev.kiln.optimizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Runs a list of passes in order, collecting statistics; an observer sees the program after each
 * pass (what {@code --print-after-all} prints).
 */
public final class PassManager {
  private final List<Pass> passes;
  private BiConsumer<String, Program> afterEach = (name, p) -> {};

  public PassManager(List<Pass> passes) {
    this.passes = List.copyOf(passes);
  }

  public List<Pass> passes() {
    return passes;
  }

  /** Called with each pass's name and the program it produced. */
  public PassManager afterEach(BiConsumer<String, Program> observer) {
    this.afterEach = observer;
    return this;
  }

  public Program run(Program program, PassStatistics stats) {
    Program p = program;
    for (Pass pass : passes) {
      stats.enter(pass.name());
      p = Bodies.run(pass, pass.run(p, stats), stats);
      afterEach.accept(pass.name(), p);
    }
    return p;
  }

  public Program run(Program program) {
    return run(program, new PassStatistics());
  }

  /** Passes by name from a registry of known passes; fails naming an unknown one. */
  public static PassManager of(List<String> names, java.util.Map<String, Pass> known) {
    List<Pass> ps = new ArrayList<>();
    for (String n : names) {
      Pass p = known.get(n);
      if (p == null) {
        throw new IllegalArgumentException("unknown pass '" + n + "' (known: " + String.join(", ", known.keySet()) + ")");
      }
      ps.add(p);
    }
    return new PassManager(ps);
  }
}
