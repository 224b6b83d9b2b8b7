package dev.kiln.optimizer;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Dead-node elimination: keeps only what the fetches and targets need, through data inputs and
 * control inputs. Guarantees: every kept node is needed; names, attributes and order of kept nodes
 * are unchanged. A fed node keeps its inputs: a node cannot exist without them (the runtime does not
 * run what only a fed value needs).
 */
public final class Prune implements Pass {
  /** A pass with no state of its own; the {@link PassManager} runs it. */
  public Prune() {}

  @Override
  public String name() {
    return "prune";
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    Set<Operation> live = live(p);
    List<Operation> all = p.graph().operations();
    if (live.size() == all.size()) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    for (Operation op : all) {
      if (live.contains(op)) {
        rw.copy(op);
      }
    }
    stats.add("nodes removed", all.size() - live.size());
    return rw.finish();
  }

  /** The program without the nodes nothing needs (what a rewrite left dead), counted as removed. */
  static Program removeDead(Program p, PassStatistics stats) {
    return new Prune().run(p, stats);
  }

  /** The nodes a program's fetches and targets need. */
  static Set<Operation> live(Program p) {
    Set<Operation> live = new HashSet<>();
    Deque<Operation> work = new ArrayDeque<>();
    for (Output f : p.fetches()) {
      work.push(f.op());
    }
    p.targets().forEach(work::push);
    while (!work.isEmpty()) {
      Operation op = work.pop();
      if (!live.add(op)) {
        continue;
      }
      op.controlInputs().forEach(work::push);
      for (int i = 0; i < op.numInputs(); i++) {
        // Inputs a node does not read (a Variable's initial value) stay too: no node exists
        // without its inputs. The runtime skips executing them.
        Output in = op.input(i);
        work.push(in.op());
      }
    }
    return live;
  }
}
