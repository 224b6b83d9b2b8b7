package dev.kiln.optimizer;

import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gradient-descent updates into the GEMM: a variable updated by a scaled matrix product,
 * {@code assign(w, w - lr * matmul(a, b))} (or {@code w + ...}, the scale on either side of the Mul,
 * or no scale) and {@code assignSub/assignAdd(w, lr * matmul(a, b))}, becomes
 * {@code assign(w, Gemm(a, b, w) {alpha = -lr, beta = 1})}: one BLAS call accumulates the product
 * into the variable, with no gradient materialized and no pass over the weights (the Session writes
 * the Gemm straight into the variable's storage, after every read of the old value).
 *
 * <p>Fires only where the meaning cannot change: the product and the scaled product are read by the
 * next node of the pattern alone (not fetched, fed, targeted, read elsewhere, or a control input), the
 * scale is a plain scalar constant, the product has exactly the variable's (fully known) shape, the
 * matched nodes share a device, and nothing involved is fed. An AssignSub/AssignAdd updates the value
 * the variable holds when it runs, and the Gemm reads the value from before the run's assigns: so that
 * form fires only when it is the run's one assign to that variable. An Assign whose value reads the
 * variable keeps its meaning whatever else assigns it: the Gemm reads the variable where the Sub did.
 * Runs before {@code fuse_matmul} and {@code fuse}, which would otherwise take these nodes. Counts
 * "updates fused".
 */
public final class FuseMatMulUpdate implements Pass {
  /** A pass with no state of its own; the {@link PassManager} runs it. */
  public FuseMatMulUpdate() {}

  @Override
  public String name() {
    return "fuse_matmul_update";
  }

  /**
   * A matched update: the assign, the variable's value it updates, the product, the optional scale
   * node, the optional Sub/Add (absent for AssignSub/AssignAdd) and alpha (sign times the scale).
   */
  private record Match(Operation assign, Output variable, Operation product, Operation scale, Operation combine,
      double alpha) {
    /** The node at whose place the Gemm is built: the last matched node. */
    Operation last() {
      return combine != null ? combine : assign;
    }

    List<Operation> absorbed() {
      List<Operation> l = new ArrayList<>();
      l.add(product);
      if (scale != null) {
        l.add(scale);
      }
      if (combine != null) {
        l.add(combine);
      }
      return l;
    }
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    List<Operation> ops = p.graph().operations();
    Map<Output, List<Operation>> readers = new HashMap<>();
    Set<Operation> pinned = new HashSet<>(p.targets());
    for (Operation op : ops) {
      for (Output in : op.inputs()) {
        readers.computeIfAbsent(in, k -> new ArrayList<>()).add(op);
      }
      pinned.addAll(op.controlInputs());
    }
    p.fetches().forEach(f -> pinned.add(f.op()));
    p.fed().forEach(f -> pinned.add(f.op()));
    Map<Operation, Integer> assignsPerVariable = new HashMap<>();
    for (Operation op : needed(p)) {
      if (isAssign(op)) {
        assignsPerVariable.merge(op.input(0).op(), 1, Integer::sum);
      }
    }

    Map<Operation, Match> byLast = new HashMap<>();
    Set<Operation> absorbed = new HashSet<>();
    for (Operation op : ops) {
      Match m = isAssign(op) ? match(op, p, readers, pinned, assignsPerVariable) : null;
      if (m != null && m.absorbed().stream().noneMatch(absorbed::contains)) {
        byLast.put(m.last(), m);
        absorbed.addAll(m.absorbed());
      }
    }
    if (byLast.isEmpty()) {
      return p;
    }
    Set<Operation> scales = new HashSet<>();
    byLast.values().forEach(m -> {
      if (m.scale() != null) {
        scales.add(m.scale());
      }
    });
    Rewriter rw = new Rewriter(p);
    for (Operation op : ops) {
      Match m = byLast.get(op);
      if (m != null) {
        emit(rw, m);
      } else if (!absorbed.contains(op) && !onlyReadByScales(op, readers, pinned, scales)) {
        rw.copy(op);
      }
    }
    stats.add("updates fused", byLast.size());
    return rw.finish();
  }

  private static boolean isAssign(Operation op) {
    return switch (op.type()) {
      case "Assign", "AssignAdd", "AssignSub" -> true;
      default -> false;
    };
  }

  private static Match match(Operation assign, Program p, Map<Output, List<Operation>> readers, Set<Operation> pinned,
      Map<Operation, Integer> assignsPerVariable) {
    Output var = assign.input(0);
    if (!var.op().type().equals("Variable") || p.fed().contains(var) || p.fed().contains(assign.output(0))) {
      return null;
    }
    Operation combine = null;
    Output delta;
    double sign;
    if (assign.type().equals("Assign")) {
      combine = assign.input(1).op();
      if (!soleReader(combine.output(0), assign, readers, pinned)) {
        return null;
      }
      if (Elementwise.is(combine, Primitive.SUB) && combine.input(0).equals(var)) {
        delta = combine.input(1);
        sign = -1;
      } else if (Elementwise.is(combine, Primitive.ADD) && (combine.input(0).equals(var) || combine.input(1).equals(var))) {
        delta = combine.input(0).equals(var) ? combine.input(1) : combine.input(0);
        sign = 1;
      } else {
        return null;
      }
      if (delta.equals(var)) {
        return null;
      }
    } else {
      // The Gemm reads the value from before the run's assigns: the same only if no other assign runs.
      if (assignsPerVariable.getOrDefault(var.op(), 0) != 1) {
        return null;
      }
      delta = assign.input(1);
      sign = assign.type().equals("AssignSub") ? -1 : 1;
    }
    Operation reader = combine != null ? combine : assign;
    Operation scale = null;
    double factor = 1;
    Output product = delta;
    if (Elementwise.is(delta.op(), Primitive.MUL)) {
      scale = delta.op();
      if (!soleReader(delta, reader, readers, pinned)) {
        return null;
      }
      int k = scalarConstantOperand(scale, p);
      if (k < 0) {
        return null;
      }
      factor = scale.input(k).op().attrs().getTensor("value").doubleValue();
      product = scale.input(1 - k);
      reader = scale;
    }
    Operation mm = product.op();
    if (!mm.type().equals("MatMul") || !soleReader(product, reader, readers, pinned)
        || !product.dtype().isFloating() || !product.shape().isFullyDefined() || !product.shape().equals(var.shape())) {
      return null;
    }
    double alpha = sign * factor;
    if (!Double.isFinite(alpha)) {
      return null;
    }
    for (Operation n : new Operation[] {scale, combine}) {
      if (n != null && !n.device().equals(mm.device())) {
        return null;
      }
    }
    return new Match(assign, var, mm, scale, combine, alpha);
  }

  /** Whether {@code reader} alone reads {@code v}, once, and nothing else observes v's node. */
  private static boolean soleReader(Output v, Operation reader, Map<Output, List<Operation>> readers,
      Set<Operation> pinned) {
    return readers.getOrDefault(v, List.of()).equals(List.of(reader)) && !pinned.contains(v.op())
        && v.op().numOutputs() == 1;
  }

  /** The index of a Mul's operand that is a plain scalar constant of its dtype, or -1. */
  private static int scalarConstantOperand(Operation mul, Program p) {
    for (int k = 0; k < 2; k++) {
      Output c = mul.input(k);
      if (c.op().type().equals("Const") && c.op().controlInputs().isEmpty() && !p.fed().contains(c)
          && c.shape().rank() == 0 && c.dtype() == mul.input(1 - k).dtype()) {
        return k;
      }
    }
    return -1;
  }

  /**
   * A constant read only by absorbed scale nodes (whose other operand, the product, is never a
   * constant): it would be left dead. The product's operands stay: the Gemm reads them.
   */
  private static boolean onlyReadByScales(Operation op, Map<Output, List<Operation>> readers, Set<Operation> pinned,
      Set<Operation> scales) {
    if (!op.type().equals("Const") || pinned.contains(op)) {
      return false;
    }
    List<Operation> r = readers.getOrDefault(op.output(0), List.of());
    return !r.isEmpty() && scales.containsAll(r);
  }

  /** The nodes the program's fetches and targets need (through data and control inputs). */
  private static Set<Operation> needed(Program p) {
    Set<Operation> seen = new HashSet<>();
    Deque<Operation> work = new ArrayDeque<>(p.targets());
    p.fetches().forEach(f -> work.add(f.op()));
    while (!work.isEmpty()) {
      Operation op = work.pop();
      if (seen.add(op)) {
        op.inputs().forEach(in -> work.add(in.op()));
        work.addAll(op.controlInputs());
      }
    }
    return seen;
  }

  private static void emit(Rewriter rw, Match m) {
    Operation mm = m.product();
    OperationBuilder b = rw.newNodeReplacing("Gemm", m.combine() != null ? m.combine() : m.scale() != null ? m.scale() : mm)
        .addInput(rw.map(mm.input(0))).addInput(rw.map(mm.input(1))).addInput(rw.map(m.variable()))
        .setAttr("transpose_a", mm.attrs().getBool("transpose_a", false))
        .setAttr("transpose_b", mm.attrs().getBool("transpose_b", false))
        .setAttr("alpha", m.alpha())
        .setAttr("beta", 1.0)
        .setDevice(mm.device());
    Set<Operation> controls = new LinkedHashSet<>();
    m.absorbed().forEach(n -> controls.addAll(n.controlInputs()));
    controls.forEach(c -> b.addControlInput(rw.map(c)));
    Operation gemm = b.build();
    if (m.combine() != null) {
      rw.replace(m.combine(), gemm.output(0));
      return;
    }
    // AssignSub/AssignAdd(w, delta) becomes Assign(w, Gemm(..., w)) under the same name.
    Operation a = m.assign();
    OperationBuilder ab = rw.newNodeReplacing("Assign", a).addInput(rw.map(a.input(0))).addInput(gemm.output(0))
        .setDevice(a.device());
    a.controlInputs().forEach(c -> ab.addControlInput(rw.map(c)));
    rw.replace(a, ab.build().output(0));
  }
}
