package dev.kiln.runtime.plan;

import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * What one run executes and in which order: the nodes its fetches and targets need (pruned at fed
 * values), one copy-out step per fetch, and a deterministic order in which every read of a variable
 * comes before that run's assigns to it unless a path orders the read after the assign.
 *
 * <p>Variable reads, Assign outputs and views of them alias the variable's storage, so "read" means
 * any step that consumes such a value (fetch copies included). For each variable the plan adds
 * edges: assigns in graph creation order (the documented order of several assigns to one variable),
 * and read -> assign wherever no path assign -> read exists. The order is a topological sort that
 * prefers non-assign nodes, then graph creation order, which also runs assigns as late as possible.
 */
public final class Schedule {
  /** One step of a run: a node, or the copy-out of a fetch. */
  public sealed interface Step permits OpStep, FetchStep {}

  /** Runs {@code op}. */
  public record OpStep(Operation op) implements Step {}

  /** Copies fetch number {@code index} out of the frame. */
  public record FetchStep(int index, Output value) implements Step {}

  private final List<Step> steps;
  private final List<Operation> mustBeInitialized;
  private final List<Operation> written;
  private final List<Operation> snapshots;
  private final Map<Operation, Operation> fused;

  private Schedule(List<Step> steps, List<Operation> mustBeInitialized, List<Operation> written,
      List<Operation> snapshots, Map<Operation, Operation> fused) {
    this.steps = steps;
    this.mustBeInitialized = mustBeInitialized;
    this.written = written;
    this.snapshots = snapshots;
    this.fused = fused;
  }

  /** The steps in run order. */
  public List<Step> steps() {
    return steps;
  }

  /** Variables whose value from before the run is read: they must be initialized when it starts. */
  public List<Operation> mustBeInitialized() {
    return mustBeInitialized;
  }

  /** Variables assigned by the run, in creation order. */
  public List<Operation> written() {
    return written;
  }

  /** Variables whose reads in this run go to a copy taken before their first assign. */
  public List<Operation> snapshots() {
    return snapshots;
  }

  /** Kernel nodes that write their output straight into a variable (their Assign copies nothing). */
  public Map<Operation, Operation> fused() {
    return fused;
  }

  /** Assign, AssignAdd or AssignSub: a node that writes its first input, a variable. */
  public static boolean isAssign(Operation op) {
    return switch (op.type()) {
      case "Assign", "AssignAdd", "AssignSub" -> true;
      default -> false;
    };
  }

  /**
   * The variables a control-flow node's bodies assign (empty for any other node): the node is a
   * writer of each, ordered like an assign.
   */
  public static List<Operation> assignedInBodies(Operation op) {
    if (!(op.def() instanceof ControlFlowOp)) {
      return List.of();
    }
    List<Operation> vars = new ArrayList<>();
    for (int i : ControlFlowOp.assignedInputs(op)) {
      Operation v = op.input(i).op();
      if (!vars.contains(v)) {
        vars.add(v);
      }
    }
    return vars;
  }

  /** Whether {@code op} writes a variable: an assign, or a control-flow node whose bodies assign one. */
  public static boolean writesVariable(Operation op) {
    return isAssign(op) || !assignedInBodies(op).isEmpty();
  }

  /**
   * Schedules a run. If reads and assigns cannot be ordered (e.g. {@code assign(a, b)} and
   * {@code assign(b, a)} in one run: each read must precede the other assign), the variables whose
   * pre-run reads are all unordered with their assigns are read through a snapshot (a copy taken
   * before their first assign) instead, and the run is scheduled again.
   */
  public static Schedule build(Set<Output> fed, List<Output> fetches, List<Operation> targets, PlanRules rules) {
    try {
      return build(fed, fetches, targets, rules, Set.of());
    } catch (Cycle c) {
      if (c.snapshotSafe.isEmpty()) {
        throw c.error;
      }
      try {
        return build(fed, fetches, targets, rules, c.snapshotSafe);
      } catch (Cycle again) {
        throw again.error;
      }
    }
  }

  /** An unorderable run, and the variables that could be read through a snapshot instead. */
  private static final class Cycle extends RuntimeException {
    final IllegalArgumentException error;
    final Set<Operation> snapshotSafe;

    Cycle(IllegalArgumentException error, Set<Operation> snapshotSafe) {
      super(null, null, false, false);
      this.error = error;
      this.snapshotSafe = snapshotSafe;
    }
  }

  private static Schedule build(Set<Output> fed, List<Output> fetches, List<Operation> targets, PlanRules rules,
      Set<Operation> snapshots) {
    List<Operation> ops = Pruning.neededOps(fed, fetches, targets);
    int n = ops.size();
    int total = n + fetches.size();
    Map<Operation, Integer> node = new HashMap<>();
    for (int i = 0; i < n; i++) {
      node.put(ops.get(i), i);
    }
    List<List<Integer>> succ = new ArrayList<>(total);
    for (int i = 0; i < total; i++) {
      succ.add(new ArrayList<>(2));
    }
    int[] indegree = new int[total];
    VariableAliases aliases = new VariableAliases(fed, snapshots, rules);
    // Variable -> its assign nodes (creation order) and its readers (node, reads pre-run value).
    Map<Operation, List<Integer>> writers = new LinkedHashMap<>();
    Map<Operation, List<long[]>> readers = new LinkedHashMap<>();

    for (int u = 0; u < n; u++) {
      Operation op = ops.get(u);
      for (int i = 0; i < op.numInputs(); i++) {
        if (!op.def().readsInput(i)) {
          continue;
        }
        Output in = op.input(i);
        if (!fed.contains(in)) {
          edge(succ, indegree, node.get(in.op()), u);
        }
        noteRead(aliases, readers, in, u);
      }
      for (Operation c : op.controlInputs()) {
        edge(succ, indegree, node.get(c), u);
      }
      if (isAssign(op)) {
        writers.computeIfAbsent(op.input(0).op(), k -> new ArrayList<>()).add(u);
      }
      for (Operation var : assignedInBodies(op)) {
        writers.computeIfAbsent(var, k -> new ArrayList<>()).add(u);
      }
    }
    for (int k = 0; k < fetches.size(); k++) {
      Output f = fetches.get(k);
      if (!fed.contains(f)) {
        edge(succ, indegree, node.get(f.op()), n + k);
      }
      noteRead(aliases, readers, f, n + k);
    }

    // An Assign whose value is computed for it alone, by a kernel that may write over its inputs, has
    // that kernel write into the variable directly: the kernel becomes the variable's writer.
    Map<Operation, Operation> fused = new HashMap<>();
    if (snapshots.isEmpty()) {
      for (Map.Entry<Operation, List<Integer>> e : writers.entrySet()) {
        if (e.getValue().size() == 1) {
          int a = e.getValue().get(0);
          Integer p = fusableProducer(ops, node, succ, aliases, rules, ops.get(a), a, e.getKey());
          if (p != null) {
            e.setValue(List.of(p));
            fused.put(ops.get(p), e.getKey());
          }
        }
      }
    }

    // Several assigns to one variable apply in graph creation order.
    for (List<Integer> ws : writers.values()) {
      for (int k = 1; k < ws.size(); k++) {
        edge(succ, indegree, ws.get(k - 1), ws.get(k));
      }
    }
    // A snapshot is taken before the variable's first assign (the Variable node copies the storage).
    for (Operation var : snapshots) {
      Integer readNode = node.get(var);
      for (int w : writers.getOrDefault(var, List.of())) {
        if (readNode != null) {
          edge(succ, indegree, readNode, w);
        }
      }
    }
    Map<Integer, BitSet> reach = new HashMap<>();
    for (List<Integer> ws : writers.values()) {
      for (int w : ws) {
        reach.put(w, reachable(succ, w, total));
      }
    }
    List<Operation> mustInit = new ArrayList<>();
    for (Operation var : snapshots) {
      if (node.containsKey(var)) {
        mustInit.add(var);
      }
    }
    Set<Operation> snapshotSafe = new java.util.LinkedHashSet<>();
    for (Map.Entry<Operation, List<Integer>> e : writers.entrySet()) {
      Operation first = ops.get(e.getValue().get(0));
      if (!first.type().equals("Assign") && !fused.containsKey(first)) {
        mustInit.add(e.getKey()); // AssignAdd/AssignSub first: updates the pre-run value
      }
    }
    for (Map.Entry<Operation, List<long[]>> e : readers.entrySet()) {
      List<Integer> ws = writers.getOrDefault(e.getKey(), List.of());
      boolean needsInit = false;
      boolean preRunReadAfterAssign = false;
      boolean preRunRead = false;
      for (long[] r : e.getValue()) {
        int reader = (int) r[0];
        boolean orderedAfterSomeAssign = false;
        for (int w : ws) {
          if (w == reader) {
            continue;
          }
          if (reach.get(w).get(reader)) {
            orderedAfterSomeAssign = true;
          } else {
            edge(succ, indegree, reader, w); // read the value from before this assign
          }
        }
        needsInit |= r[1] != 0 && !orderedAfterSomeAssign;
        preRunRead |= r[1] != 0;
        preRunReadAfterAssign |= r[1] != 0 && orderedAfterSomeAssign;
      }
      if (needsInit && !mustInit.contains(e.getKey())) {
        mustInit.add(e.getKey());
      }
      // Only a Variable read by assigns alone may be snapshot: a loop assigning it writes its storage.
      if (!ws.isEmpty() && preRunRead && !preRunReadAfterAssign && e.getKey().type().equals("Variable")
          && ws.stream().noneMatch(w -> ops.get(w).def() instanceof ControlFlowOp)) {
        snapshotSafe.add(e.getKey());
      }
    }

    List<Step> steps = order(ops, fetches, succ, indegree, node, fed, fused.keySet());
    if (steps.size() < total) {
      List<String> stuck = new ArrayList<>();
      BitSet onCycle = onCycles(succ, steps, node, n, total);
      for (int u = onCycle.nextSetBit(0); u >= 0 && u < n && stuck.size() < 12; u = onCycle.nextSetBit(u + 1)) {
        stuck.add(ops.get(u).toString());
      }
      throw new Cycle(new IllegalArgumentException("cannot order this run: the reads and assigns of variables "
          + "form a cycle (each read must come before the assigns it is not ordered after) among "
          + String.join(", ", stuck)), snapshotSafe);
    }
    return new Schedule(List.copyOf(steps), List.copyOf(mustInit), List.copyOf(writers.keySet()),
        List.copyOf(snapshots), Map.copyOf(fused));
  }

  /**
   * The node computing the value of {@code assign} (an Assign, the only writer of {@code var} in the
   * run) if that kernel can write into the variable's storage itself: a floating-point kernel the
   * device lets write into a variable (one that cannot fail midway), whose only successor is the
   * Assign, and which reads the variable only through inputs of the output's type that the device
   * lets it overwrite.
   */
  private static Integer fusableProducer(List<Operation> ops, Map<Operation, Integer> node,
      List<List<Integer>> succ, VariableAliases aliases, PlanRules rules, Operation assign, int a, Operation var) {
    if (!assign.type().equals("Assign") || !var.type().equals("Variable")) {
      return null;
    }
    Output value = assign.input(1);
    Integer p = node.get(value.op());
    if (p == null || !succ.get(p).equals(List.of(a))) {
      return null;
    }
    Operation producer = value.op();
    if (producer.numOutputs() != 1 || rules.isView(producer) || !rules.writesIntoVariable(producer)
        || !value.dtype().isFloating() || !value.type().equals(var.outputType(0))) {
      return null;
    }
    for (int i = 0; i < producer.numInputs(); i++) {
      if (producer.def().readsInput(i) && aliases.variableOf(producer.input(i)) == var
          && !(rules.allowsInPlace(producer, i) && producer.input(i).type().equals(value.type()))) {
        return null;
      }
    }
    return p;
  }

  /**
   * The nodes left unscheduled that lie on (or between) cycles: the unscheduled nodes minus those
   * that only wait behind a cycle (peeled off from the sinks backwards).
   */
  private static BitSet onCycles(List<List<Integer>> succ, List<Step> scheduled, Map<Operation, Integer> node,
      int n, int total) {
    BitSet left = new BitSet(total);
    left.set(0, total);
    for (Step st : scheduled) {
      switch (st) {
        case OpStep(Operation op) -> left.clear(node.get(op));
        case FetchStep(int k, Output value) -> left.clear(n + k);
      }
    }
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int u = left.nextSetBit(0); u >= 0; u = left.nextSetBit(u + 1)) {
        boolean waitedOn = false;
        for (int v : succ.get(u)) {
          waitedOn |= left.get(v);
        }
        if (!waitedOn) {
          left.clear(u);
          changed = true;
        }
      }
    }
    return left;
  }

  private static void noteRead(VariableAliases aliases, Map<Operation, List<long[]>> readers, Output value, int reader) {
    Operation var = aliases.variableOf(value);
    if (var != null) {
      readers.computeIfAbsent(var, k -> new ArrayList<>())
          .add(new long[] {reader, aliases.readsPreRunValue(value) ? 1 : 0});
    }
  }

  private static void edge(List<List<Integer>> succ, int[] indegree, int from, int to) {
    succ.get(from).add(to);
    indegree[to]++;
  }

  private static BitSet reachable(List<List<Integer>> succ, int from, int total) {
    BitSet seen = new BitSet(total);
    int[] stack = new int[total];
    int top = 0;
    stack[top++] = from;
    while (top > 0) {
      int u = stack[--top];
      for (int v : succ.get(u)) {
        if (!seen.get(v)) {
          seen.set(v);
          stack[top++] = v;
        }
      }
    }
    return seen;
  }

  private static List<Step> order(List<Operation> ops, List<Output> fetches, List<List<Integer>> succ,
      int[] indegree, Map<Operation, Integer> node, Set<Output> fed, Set<Operation> fused) {
    int n = ops.size();
    int total = n + fetches.size();
    // Sort key: assigns last, then creation order; a fetch copy right after its producer.
    long[] key = new long[total];
    for (int u = 0; u < n; u++) {
      boolean writes = writesVariable(ops.get(u)) || fused.contains(ops.get(u));
      key[u] = ((writes ? 1L : 0L) << 62) | ((long) ops.get(u).id() << 20);
    }
    for (int k = 0; k < fetches.size(); k++) {
      Output f = fetches.get(k);
      long producer = fed.contains(f) ? 0 : key[node.get(f.op())];
      key[n + k] = producer + 1 + k;
    }
    PriorityQueue<Integer> ready = new PriorityQueue<>(Comparator.comparingLong(u -> key[u]));
    int[] deg = indegree.clone();
    for (int u = 0; u < total; u++) {
      if (deg[u] == 0) {
        ready.add(u);
      }
    }
    List<Step> steps = new ArrayList<>(total);
    while (!ready.isEmpty()) {
      int u = ready.poll();
      steps.add(u < n ? new OpStep(ops.get(u)) : new FetchStep(u - n, fetches.get(u - n)));
      for (int v : succ.get(u)) {
        if (--deg[v] == 0) {
          ready.add(v);
        }
      }
    }
    return steps; // shorter than the node count when there is a cycle
  }
}
