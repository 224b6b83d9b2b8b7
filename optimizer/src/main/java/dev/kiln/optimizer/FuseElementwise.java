package dev.kiln.optimizer;

import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Graph;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Elementwise fusion: maximal connected, convex groups of two or more ELEMENTWISE ops (broadcasting
 * binaries, Cast, Select, comparisons, ...) become one {@code Fused} node whose body holds the group's
 * expression DAG, with the scalar constants it reads pulled in. The Fused node's inputs are the values
 * the group reads from outside (one body Parameter each, in order); its results are the group's values
 * used outside it, fetched, or targeted.
 *
 * <p>Only nodes the host's {@link KernelRegistry} can fuse join a group: every Fused node must be able
 * to run on the host, where placement leaves it when no device runs its body (so user-registered ops,
 * which no fused kernel computes, never fuse). Never fused: stateful ops, views (they cost nothing),
 * Fused nodes, nodes with a fed output (the feed replaces the value, so it must stay a node of its
 * own), nodes on different devices, nodes
 * ordered after different assigns (see {@link AssignOrder}: the fused node would run after all of
 * them, and a read of an assigned variable, in the group or in a user of its values, could then see
 * the new value, e.g. {@code v + f(x)} where {@code f} fuses with a node ordered after the assign).
 * So a reader of an assigned variable fuses with what is ordered after the same assigns, and reads
 * the variable's value from the same point of the run: the update of gradient descent
 * ({@code w - lr * g}) fuses into one node that runs before the assign of w. A group is
 * convex (no path leaves it and re-enters, through data or control edges), so fusing never creates a
 * cycle; members' control inputs become the Fused node's, and control dependencies on a member become
 * dependencies on the Fused node. Counts "nodes fused" (group members) and "fused nodes".
 *
 * <p>Reductions then join the group of their input ({@link #joinReductions}): a float reduction the
 * registry can fuse (the host fuses Sum, Mean, Max and Min) over trailing axes (or all) of a group's
 * value becomes the end of the Fused body, so the kernel folds it in the same pass and the reduced
 * value is never materialized (it stays a result when it is fetched or used elsewhere). Counts
 * "reductions fused".
 */
public final class FuseElementwise implements Pass {
  private final KernelRegistry kernels;

  /** @param kernels the host's kernels: which op types its fused kernels compute */
  public FuseElementwise(KernelRegistry kernels) {
    this.kernels = java.util.Objects.requireNonNull(kernels, "kernels");
  }

  @Override
  public String name() {
    return "fuse";
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    List<Operation> ops = p.graph().operations();
    int n = ops.size();
    Map<Operation, Integer> index = new HashMap<>();
    for (int i = 0; i < n; i++) {
      index.put(ops.get(i), i);
    }
    Set<Operation> fedOps = new HashSet<>();
    p.fed().forEach(o -> fedOps.add(o.op()));

    AssignOrder order = AssignOrder.of(ops);

    List<List<Integer>> consumers = new ArrayList<>(); // data and control successors of each node
    for (int i = 0; i < n; i++) {
      consumers.add(new ArrayList<>());
    }
    for (int i = 0; i < n; i++) {
      for (Operation pred : preds(ops.get(i))) {
        consumers.get(index.get(pred)).add(i);
      }
    }
    int[] group = new int[n];
    java.util.Arrays.fill(group, -1);
    Map<Integer, BitSet> members = new HashMap<>();
    Map<Integer, Shape> space = new HashMap<>(); // the broadcast of a group's values: its kernel's loop
    int nextGroup = 0;
    for (int i = 0; i < n; i++) {
      Operation op = ops.get(i);
      if (!fusible(op, fedOps)) {
        continue;
      }
      Shape shape = op.output(0).shape();
      // Join v with the groups of its fusible producers, one at a time, keeping each that leaves the
      // graph of groups acyclic.
      BitSet m = new BitSet(n);
      m.set(i);
      List<Integer> joined = new ArrayList<>();
      for (Output in : op.inputs()) {
        int j = index.get(in.op());
        int g = group[j];
        if (g < 0 || joined.contains(g) || !ops.get(j).device().equals(op.device())) {
          continue;
        }
        if (!order.sameAssigns(op, ops.get(j))) {
          continue; // the fused node would order j's readers after op's assigns, or op after j's
        }
        Shape joint = Shape.broadcast(shape, space.get(g));
        if (joint == null) {
          continue; // values of one fused node must broadcast to one iteration space
        }
        if (oneElement(space.get(g)) && !oneElement(joint)) {
          continue; // a scalar chain runs once as its own kernel, not once per block of a larger space
        }
        BitSet trial = (BitSet) m.clone();
        trial.or(members.get(g));
        if (!reentered(trial, i, consumers, group, members)) {
          m = trial;
          shape = joint;
          joined.add(g);
        }
      }
      int g = nextGroup++;
      for (int old : joined) {
        members.remove(old);
      }
      members.put(g, m);
      space.put(g, shape);
      for (int k = m.nextSetBit(0); k >= 0; k = m.nextSetBit(k + 1)) {
        group[k] = g;
      }
    }
    long reductions = joinReductions(ops, index, fedOps, consumers, group, members, space, order);
    members.values().removeIf(m -> m.cardinality() < 2);
    if (members.isEmpty()) {
      return p;
    }
    int[] unit = new int[n];
    for (int i = 0; i < n; i++) {
      unit[i] = group[i] >= 0 && members.containsKey(group[i]) ? group[i] : -1;
    }
    Program out = emit(p, ops, index, unit, members, stats);
    if (reductions > 0) {
      stats.add("reductions fused", reductions);
    }
    return out;
  }

  private static List<Operation> preds(Operation op) {
    List<Operation> ps = new ArrayList<>(op.numInputs() + op.controlInputs().size());
    op.inputs().forEach(in -> ps.add(in.op()));
    ps.addAll(op.controlInputs());
    return ps;
  }

  /** Whether {@code op} may join an elementwise group: the host fuses its type, and it is a pure elementwise node. */
  boolean fusible(Operation op, Set<Operation> fedOps) {
    Set<OpTrait> t = op.def().traits();
    return kernels.canFuse(op) && t.contains(OpTrait.ELEMENTWISE) && !t.contains(OpTrait.STATEFUL)
        && op.numOutputs() == 1 && op.subgraphs().isEmpty() && !fedOps.contains(op);
  }

  /**
   * Whether a path leaves {@code set} and comes back into it in the graph where every existing group
   * is one node (reaching one member of a group reaches all its outputs). Such a set would make the
   * fused graph cyclic. Only nodes up to {@code last} (the newest member) can lie on such a path.
   */
  private static boolean reentered(BitSet set, int last, List<List<Integer>> consumers, int[] group,
      Map<Integer, BitSet> members) {
    BitSet seen = new BitSet(last + 1);
    java.util.ArrayDeque<Integer> work = new java.util.ArrayDeque<>();
    for (int k = set.nextSetBit(0); k >= 0; k = set.nextSetBit(k + 1)) {
      for (int c : consumers.get(k)) {
        if (c <= last && !set.get(c) && !seen.get(c)) {
          seen.set(c);
          work.push(c);
        }
      }
    }
    while (!work.isEmpty()) {
      int y = work.pop();
      BitSet unit = group[y] >= 0 && members.containsKey(group[y]) ? members.get(group[y]) : null;
      List<Integer> from = new ArrayList<>();
      if (unit == null) {
        from.add(y);
      } else {
        for (int k = unit.nextSetBit(0); k >= 0; k = unit.nextSetBit(k + 1)) {
          if (set.get(k)) {
            return true; // y's group is being merged: the path came back
          }
          from.add(k);
          seen.set(k);
        }
      }
      for (int f : from) {
        for (int c : consumers.get(f)) {
          if (c > last || seen.get(c)) {
            continue;
          }
          if (set.get(c)) {
            return true;
          }
          seen.set(c);
          work.push(c);
        }
      }
    }
    return false;
  }

  private static boolean isScalarConst(Operation op, Set<Operation> fedOps) {
    return op.type().equals("Const") && op.outputType(0).shape().rank() == 0 && !fedOps.contains(op)
        && op.controlInputs().isEmpty();
  }

  /** Rebuilds the program with each group as one Fused node, units ordered by their first member. */
  private Program emit(Program p, List<Operation> ops, Map<Operation, Integer> index, int[] unit,
      Map<Integer, BitSet> members, PassStatistics stats) {
    int n = ops.size();
    Set<Operation> fedOps = new HashSet<>();
    p.fed().forEach(o -> fedOps.add(o.op()));
    // Observed from outside: fetched, targeted, or used by a node of another unit.
    Set<Output> observed = new HashSet<>(p.fetches());
    Set<Operation> usedOutside = new HashSet<>(p.targets());
    for (int i = 0; i < n; i++) {
      Operation op = ops.get(i);
      for (Output in : op.inputs()) {
        int j = index.get(in.op());
        if (unit[j] >= 0 && unit[j] != unit[i]) {
          observed.add(in);
        }
        if (unit[j] < 0 && unit[i] >= 0 && isScalarConst(in.op(), fedOps)) {
          continue; // pulled into the body
        }
        usedOutside.add(in.op());
      }
      usedOutside.addAll(op.controlInputs());
    }
    p.fetches().forEach(f -> usedOutside.add(f.op()));

    // Units: a group id, or -(i + 1) for a node of its own; dependencies between units.
    Map<Integer, Integer> unitOfNode = new HashMap<>();
    Map<Integer, Integer> firstMember = new HashMap<>();
    for (int i = 0; i < n; i++) {
      int u = unit[i] >= 0 ? unit[i] : -(i + 1);
      unitOfNode.put(i, u);
      firstMember.putIfAbsent(u, i);
    }
    Map<Integer, Set<Integer>> succ = new HashMap<>();
    Map<Integer, Integer> pending = new HashMap<>();
    for (int u : firstMember.keySet()) {
      pending.put(u, 0);
      succ.put(u, new LinkedHashSet<>());
    }
    for (int i = 0; i < n; i++) {
      int u = unitOfNode.get(i);
      for (Operation pred : preds(ops.get(i))) {
        int v = unitOfNode.get(index.get(pred));
        if (v != u && succ.get(v).add(u)) {
          pending.merge(u, 1, Integer::sum);
        }
      }
    }
    PriorityQueue<Integer> ready = new PriorityQueue<>((a, b) -> Integer.compare(firstMember.get(a), firstMember.get(b)));
    pending.forEach((u, c) -> {
      if (c == 0) {
        ready.add(u);
      }
    });
    Rewriter rw = new Rewriter(p);
    long fused = 0;
    int emitted = 0;
    while (!ready.isEmpty()) {
      int u = ready.poll();
      emitted++;
      if (u < 0) {
        Operation op = ops.get(-u - 1);
        boolean pulledOnly = isScalarConst(op, fedOps) && !usedOutside.contains(op);
        if (!pulledOnly) {
          rw.copy(op);
        }
      } else {
        BitSet m = members.get(u);
        fuse(rw, ops, m, observed, fedOps);
        fused += m.cardinality();
        stats.add("fused nodes", 1);
      }
      for (int v : succ.get(u)) {
        if (pending.merge(v, -1, Integer::sum) == 0) {
          ready.add(v);
        }
      }
    }
    if (emitted != firstMember.size()) { // groups are convex, so the units form a DAG
      List<String> stuck = new ArrayList<>();
      pending.forEach((u, c) -> {
        if (c > 0) {
          stuck.add(u + "=" + (u < 0 ? ops.get(-u - 1).name() : members.get(u).toString()) + "(" + c + ")");
        }
      });
      throw new IllegalStateException("fuse: fused groups form a cycle: " + stuck);
    }
    stats.add("nodes fused", fused);
    return rw.finish();
  }

  private static void fuse(Rewriter rw, List<Operation> ops, BitSet m, Set<Output> observed, Set<Operation> fedOps) {
    Graph body = new Graph();
    Map<Output, Output> inBody = new HashMap<>();
    List<Output> inputs = new ArrayList<>();
    List<Output> params = new ArrayList<>();
    Set<Operation> controls = new LinkedHashSet<>();
    Set<Operation> memberOps = new HashSet<>();
    for (int k = m.nextSetBit(0); k >= 0; k = m.nextSetBit(k + 1)) {
      memberOps.add(ops.get(k));
    }
    List<Output> results = new ArrayList<>();
    List<Operation> resultOps = new ArrayList<>();
    Operation last = null;
    for (int k = m.nextSetBit(0); k >= 0; k = m.nextSetBit(k + 1)) {
      Operation op = ops.get(k);
      last = op;
      OperationBuilder b = body.opBuilder(op.type(), op.name());
      for (Output in : op.inputs()) {
        Output v = inBody.get(in);
        if (v == null) {
          if (isScalarConst(in.op(), fedOps)) {
            v = body.opBuilder("Const", freshName(body, in.op().name())).setAttrs(in.op().attrs()).build().output(0);
          } else {
            v = body.opBuilder("Parameter", freshName(body, "in" + params.size()))
                .setAttr("dtype", in.dtype()).setAttr("shape", in.shape()).build().output(0);
            params.add(v);
            inputs.add(in);
          }
          inBody.put(in, v);
        }
        b.addInput(v);
      }
      b.setAttrs(op.attrs());
      controls.addAll(op.controlInputs());
      Operation built = b.build();
      inBody.put(op.output(0), built.output(0));
      if (observed.contains(op.output(0))) {
        results.add(built.output(0));
        resultOps.add(op);
      }
    }
    OperationBuilder fb = rw.newNode("Fused", "fused");
    inputs.forEach(in -> fb.addInput(rw.map(in)));
    for (Operation c : controls) {
      fb.addControlInput(rw.map(c));
    }
    // Composite members enter as their primitives: the devices' fused kernels compute only those.
    fb.setDevice(last.device()).addSubgraph(Elementwise.lower(new Subgraph(body, params, results)));
    Operation f = fb.build();
    for (Operation op : memberOps) {
      int r = resultOps.indexOf(op);
      // Members that are not results are never read outside: their value maps to nothing.
      if (r >= 0) {
        rw.replace(op, List.of(f.output(r)), f);
      } else {
        rw.orderAs(op, f);
      }
    }
  }

  private static String freshName(Graph g, String hint) {
    String name = hint;
    for (int k = 1; g.findOperation(name).isPresent(); k++) {
      name = hint + "_" + k;
    }
    return name;
  }

  /**
   * Adds to each group the reductions of its values that can end its body: a float reduction the
   * registry can fuse, not fed, on the group's device, over trailing axes of its input (dims of 1
   * aside), whose input has the group's whole iteration space (the kernel walks the input once, element by
   * element), where no member reads the reduction and the graph of groups stays acyclic. With
   * unknown dims the space must be the input's by construction: every member is an ancestor of it.
   * A group of one elementwise node counts (square then sum is one pass). Returns how many joined.
   */
  private long joinReductions(List<Operation> ops, Map<Operation, Integer> index, Set<Operation> fedOps,
      List<List<Integer>> consumers, int[] group, Map<Integer, BitSet> members, Map<Integer, Shape> space,
      AssignOrder order) {
    long joined = 0;
    Set<Integer> reductions = new HashSet<>();
    for (int i = 0; i < ops.size(); i++) {
      Operation op = ops.get(i);
      // A node the registry fuses that is not elementwise is a reduction that may end a body.
      if (op.def().traits().contains(OpTrait.ELEMENTWISE) || !kernels.canFuse(op) || op.numInputs() != 1
          || fedOps.contains(op) || !op.output(0).dtype().isFloating()) {
        continue;
      }
      int j = index.get(op.input(0).op());
      int g = group[j];
      if (g < 0 || !members.containsKey(g) || reductions.contains(j) || !ops.get(j).device().equals(op.device())
          || !order.sameAssigns(op, ops.get(j))) {
        continue;
      }
      Shape in = op.input(0).shape();
      BitSet m = members.get(g);
      if (!in.equals(space.get(g)) || !trailingAxes(op, in)
          || (!in.isFullyDefined() && !ancestorsOf(j, m, reductions, ops, index))) {
        continue;
      }
      boolean readByMember = false;
      for (int c : consumers.get(i)) {
        readByMember |= m.get(c);
      }
      BitSet trial = (BitSet) m.clone();
      trial.set(i);
      if (readByMember || reentered(trial, Math.max(i, m.length() - 1), consumers, group, members)) {
        continue;
      }
      members.put(g, trial);
      group[i] = g;
      reductions.add(i);
      joined++;
    }
    return joined;
  }

  /** Whether the reduced axes of {@code r} come after every kept axis of {@code in} (dims of 1 aside). */
  private static boolean trailingAxes(Operation r, Shape in) {
    if (!in.hasKnownRank() || !r.attrs().has("axes")) {
      return false;
    }
    int rank = in.rank();
    boolean[] reduced = new boolean[rank];
    List<Long> axes = r.attrs().getLongs("axes");
    for (long a : axes) {
      long k = a < 0 ? a + rank : a;
      if (k < 0 || k >= rank) {
        return false;
      }
      reduced[(int) k] = true;
    }
    boolean seenReduced = false;
    for (int d = 0; d < rank; d++) {
      if (in.dim(d) == 1) {
        continue;
      }
      if (reduced[d]) {
        seenReduced = true;
      } else if (seenReduced) {
        return false;
      }
    }
    return !axes.isEmpty();
  }

  /** Whether every member of {@code m} but the reductions is {@code j} or an ancestor of it. */
  private static boolean ancestorsOf(int j, BitSet m, Set<Integer> reductions, List<Operation> ops,
      Map<Operation, Integer> index) {
    BitSet seen = new BitSet();
    java.util.ArrayDeque<Integer> work = new java.util.ArrayDeque<>(List.of(j));
    seen.set(j);
    while (!work.isEmpty()) {
      for (Output in : ops.get(work.pop()).inputs()) {
        int k = index.get(in.op());
        if (m.get(k) && !seen.get(k)) {
          seen.set(k);
          work.push(k);
        }
      }
    }
    for (int k = m.nextSetBit(0); k >= 0; k = m.nextSetBit(k + 1)) {
      if (!seen.get(k) && !reductions.contains(k)) {
        return false;
      }
    }
    return true;
  }

  private static boolean oneElement(Shape s) {
    return s.isFullyDefined() && s.elementCount() == 1;
  }
}
