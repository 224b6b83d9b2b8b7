package dev.kiln.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Gradients of the control-flow ops ({@link ControlFlowOp}).
 *
 * <p>If: the gradient is an If on the same predicate whose branches recompute the forward branch
 * and differentiate it, so each branch only ever sees its own values.
 *
 * <p>While: a copy of the forward loop that also counts its iterations and pushes onto per-iteration
 * stacks exactly the body values the gradient reads (found while the gradient body is built: each
 * forward value a gradient node reads becomes a {@code StackRead} of a new stack), then a backward
 * loop that runs the trip count down, differentiating one iteration each time and summing the
 * gradients of captured values. The copy has the forward loop's inputs and body, so it computes the
 * same loop values.
 *
 * <p>Second order: the backward loop is a While too, differentiated the same way. Its reads of the
 * forward stacks ({@code StackRead}) get gradients one element per iteration, which its own backward
 * loop pushes onto stacks in the forward stack's order; the forward copy's gradient then reads those
 * as the gradients of the values it stacked. Each further order repeats this. Differentiating a
 * nested loop's gradient, whose backward body would have to stack the stacks the inner loop recorded,
 * recomputes that inner loop in the backward body from its inputs instead.
 */
final class ControlFlowGradients {
  private ControlFlowGradients() {}

  static List<Optional<Output>> cond(Ops tf, Operation op, List<Optional<Output>> grads) {
    refuseAssigns(op);
    List<Integer> xs = new ArrayList<>();
    for (int i = 1; i < op.numInputs(); i++) {
      if (op.input(i).dtype().isFloating()) {
        xs.add(i);
      }
    }
    List<Integer> ys = new ArrayList<>();
    for (int j = 0; j < op.numOutputs(); j++) {
      if (grads.get(j).isPresent() && op.output(j).dtype().isFloating()) {
        ys.add(j);
      }
    }
    List<Optional<Output>> out = new ArrayList<>(Collections.nCopies(op.numInputs(), Optional.empty()));
    if (xs.isEmpty() || ys.isEmpty()) {
      return out;
    }
    List<Output> r = tf.cond(op.input(0), () -> branch(tf, op, 0, xs, ys, grads),
        () -> branch(tf, op, 1, xs, ys, grads));
    for (int k = 0; k < xs.size(); k++) {
      out.set(xs.get(k), Optional.of(r.get(k)));
    }
    return out;
  }

  /** In the branch under construction: branch {@code b} recomputed, then differentiated. */
  private static List<Output> branch(Ops tf, Operation op, int b, List<Integer> xs, List<Integer> ys,
      List<Optional<Output>> grads) {
    Graph g = tf.graph();
    Subgraph sub = op.subgraphs().get(b);
    Map<Output, Output> map = new IdentityHashMap<>();
    for (int i = 0; i < sub.parameters().size(); i++) {
      Output outer = op.input(i + 1);
      map.put(sub.parameters().get(i), g.captured(outer, () -> op + ": input '" + outer.name() + "'"));
    }
    copy(sub.graph(), g, map);
    List<Output> y = new ArrayList<>();
    List<Output> gy = new ArrayList<>();
    for (int j : ys) {
      y.add(map.get(sub.results().get(j)));
      Output gj = grads.get(j).get();
      gy.add(g.captured(gj, () -> op + ": gradient '" + gj.name() + "'"));
    }
    List<Output> x = xs.stream().map(i -> map.get(sub.parameters().get(i - 1))).toList();
    List<Optional<Output>> d = Gradients.buildAcross(tf, g, y, x, gy);
    List<Output> out = new ArrayList<>();
    for (int k = 0; k < x.size(); k++) {
      Output xk = x.get(k);
      out.add(d.get(k).orElseGet(() -> tf.zerosLike(xk)));
    }
    return out;
  }

  /** Copies every node of {@code from} but the mapped ones (Parameters) into {@code to}, extending {@code map}. */
  private static void copy(Graph from, Graph to, Map<Output, Output> map) {
    for (Operation op : from.operations()) {
      if (op.numOutputs() > 0 && map.containsKey(op.output(0))) {
        continue;
      }
      OperationBuilder b = new OperationBuilder(to, op.type(), null).autoName(op.name());
      for (Output in : op.inputs()) {
        Output m = map.get(in);
        b.addInput(m != null ? m : in);
      }
      b.setAttrs(op.attrs());
      op.subgraphs().forEach(b::addSubgraph);
      if (!op.device().isEmpty()) {
        b.setDevice(op.device());
      }
      Operation copy = b.build();
      for (int j = 0; j < op.numOutputs(); j++) {
        map.put(op.output(j), copy.output(j));
      }
    }
  }

  static List<Optional<Output>> whileLoop(Ops tf, Operation op, List<Optional<Output>> grads) {
    refuseAssigns(op);
    Subgraph cond = op.subgraphs().get(0);
    Subgraph body = op.subgraphs().get(1);
    int stackedBefore = (int) op.attrs().getLong(ControlFlowOp.NUM_STACKED);
    int n = body.results().size() - stackedBefore;
    int m = op.numInputs() - n;
    List<Integer> f = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (op.output(i).dtype().isFloating()) {
        f.add(i);
      }
    }
    // Float captured values: summed across iterations (c), or stacks a loop gradient recorded (cs),
    // whose gradient is one element per iteration, pushed onto a stack of this gradient's own.
    List<Integer> c = new ArrayList<>();
    List<Integer> cs = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      if (op.input(n + i).dtype().isFloating()) {
        (isStack(op.input(n + i)) ? cs : c).add(i);
      }
    }
    // Float stacked outputs with a gradient: their gradient must itself be a stack (see above).
    List<Integer> s = new ArrayList<>();
    for (int k = 0; k < stackedBefore; k++) {
      Optional<Output> gk = grads.get(n + k);
      if (gk.isPresent() && op.output(n + k).dtype().isFloating()) {
        if (!isStack(gk.get())) {
          throw new IllegalArgumentException("gradients: " + op + " records stacks for a gradient and stack '"
              + op.output(n + k).name() + "' gets the gradient '" + gk.get().name() + "', which is not a stack"
              + " a loop gradient pushed (a stack with more than one differentiated reader); differentiating such a"
              + " loop gradient is not supported");
        }
        s.add(k);
      }
    }
    List<Optional<Output>> out = new ArrayList<>(Collections.nCopies(op.numInputs(), Optional.empty()));
    boolean any = false;
    for (int i : f) {
      any |= grads.get(i).isPresent();
    }
    any |= !s.isEmpty();
    if (!any || (f.isEmpty() && c.isEmpty() && cs.isEmpty())) {
      return out;
    }
    Graph root = tf.rootGraph();
    Graph target = root.buildTarget();

    // The forward copy's body: the forward body, the iteration counter (loop value n), stacks added later.
    Graph fwd = new Graph();
    Map<Output, Output> fmap = new IdentityHashMap<>();
    List<Output> fparams = new ArrayList<>();
    for (int i = 0; i < n + m; i++) {
      Output p = body.parameters().get(i);
      Output q = param(fwd, p.type());
      fmap.put(p, q);
      fparams.add(q);
    }
    Output counter = param(fwd, new TensorType(DType.INT32, Shape.scalar()));
    fparams.add(n, counter);
    copy(body.graph(), fwd, fmap);
    Ops inFwd = Ops.create(fwd).withSubScope("count");
    Output nextCount = inFwd.add(counter, inFwd.constant(1));

    // The backward body: loop values j (iterations left), the gradients of the float loop values, and
    // the sums of the float captured values' gradients.
    ControlFlow.BodyScope back = new ControlFlow.BodyScope(root, target);
    Output j = back.extraParameter("iterations", new TensorType(DType.INT32, Shape.scalar()));
    List<Output> gParams = new ArrayList<>();
    for (int i : f) {
      gParams.add(back.extraParameter("grad", op.output(i).type()));
    }
    List<Output> accParams = new ArrayList<>();
    for (int i : c) {
      accParams.add(back.extraParameter("sum", op.input(n + i).type()));
    }
    Output[] index = new Output[1];
    List<Integer> pushed = new ArrayList<>();
    List<Output> stacked = new ArrayList<>();
    List<Output> stackParams = new ArrayList<>();
    Map<Output, Output> reads = new IdentityHashMap<>();
    Map<Operation, Operation> recomputed = new IdentityHashMap<>();
    Map<Output, Integer> captureIndex = new HashMap<>();
    for (int i = 0; i < m; i++) {
      captureIndex.put(fparams.get(n + 1 + i), i);
    }
    back.resolveForeign(fwd, v -> {
      Integer ci = captureIndex.get(v);
      if (ci != null) {
        return back.capture(op.input(n + ci)); // loop-invariant: the forward loop's captured value
      }
      if (isStack(v)) {
        // A stack an inner loop records each iteration would need a stack of stacks: the backward body
        // recomputes that inner loop from its (stacked) inputs instead.
        Operation copy = recomputed.get(v.op());
        if (copy == null) {
          copy = recompute(back.graph(), v.op());
          recomputed.put(v.op(), copy);
        }
        return copy.output(v.index());
      }
      return reads.computeIfAbsent(v, k -> {
        Output sp = back.extraParameter("stack", ControlFlowOp.stackType(v.type()));
        stacked.add(v);
        stackParams.add(sp);
        return new OperationBuilder(back.graph(), "StackRead", null).autoName("stack_read").addInput(sp)
            .addInput(index[0]).build().output(0);
      });
    });
    List<Output> backResults = back.build(() -> {
      index[0] = tf.sub(j, tf.constant(1));
      List<Output> ys = new ArrayList<>();
      List<Output> gys = new ArrayList<>();
      for (int k = 0; k < f.size(); k++) {
        ys.add(fmap.get(body.results().get(f.get(k))));
        gys.add(gParams.get(k));
      }
      List<Output> xs = new ArrayList<>();
      for (int i : f) {
        xs.add(fparams.get(i));
      }
      for (int k : s) {
        ys.add(fmap.get(body.results().get(n + k)));
        Output gs = back.capture(grads.get(n + k).get());
        gys.add(new OperationBuilder(back.graph(), "StackRead", null).autoName("stack_read").addInput(gs)
            .addInput(index[0]).build().output(0));
      }
      for (int i : c) {
        xs.add(fparams.get(n + 1 + i));
      }
      for (int i : cs) {
        xs.add(fparams.get(n + 1 + i));
      }
      List<Optional<Output>> d = Gradients.buildAcross(tf, fwd, ys, xs, gys);
      List<Output> res = new ArrayList<>();
      res.add(index[0]);
      for (int k = 0; k < f.size(); k++) {
        Output gk = gParams.get(k);
        res.add(d.get(k).orElseGet(() -> tf.zerosLike(gk)));
      }
      for (int k = 0; k < c.size(); k++) {
        Optional<Output> dk = d.get(f.size() + k);
        res.add(dk.isPresent() ? accumulate(tf, accParams.get(k), dk.get()) : accParams.get(k));
      }
      for (int k = 0; k < cs.size(); k++) {
        Optional<Output> dk = d.get(f.size() + c.size() + k);
        if (dk.isPresent()) {
          pushed.add(cs.get(k));
          res.add(stackElement(op, op.input(n + cs.get(k)), dk.get()));
        }
      }
      return res;
    }, "While '" + op.name() + "' gradient", "backward body");

    // The forward copy, now that the stacks are known.
    List<Output> fresults = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      fresults.add(fmap.get(body.results().get(i)));
    }
    fresults.add(nextCount);
    fresults.addAll(stacked);
    Graph fcondGraph = new Graph();
    Map<Output, Output> cmap = new IdentityHashMap<>();
    List<Output> cparams = new ArrayList<>();
    for (int i = 0; i < n + m; i++) {
      Output p = param(fcondGraph, cond.parameters().get(i).type());
      cmap.put(cond.parameters().get(i), p);
      cparams.add(p);
    }
    cparams.add(n, param(fcondGraph, counter.type()));
    copy(cond.graph(), fcondGraph, cmap);
    OperationBuilder fb = tf.builder("While", op.name() + "_forward");
    for (int i = 0; i < n; i++) {
      fb.addInput(op.input(i));
    }
    fb.addInput(tf.constant(0));
    for (int i = 0; i < m; i++) {
      fb.addInput(op.input(n + i));
    }
    fb.addSubgraph(new Subgraph(fcondGraph, cparams, List.of(cmap.get(cond.results().get(0)))))
        .addSubgraph(new Subgraph(fwd, fparams, fresults))
        .setAttr(ControlFlowOp.MAXIMUM_ITERATIONS, op.attrs().getLong(ControlFlowOp.MAXIMUM_ITERATIONS))
        .setAttr(ControlFlowOp.NUM_STACKED, (long) stacked.size()).setAttr(ControlFlowOp.FORWARD_OF, op.name());
    Operation forward = fb.build();

    // The backward loop: while iterations are left.
    List<Output> init = new ArrayList<>();
    List<Output> leading = new ArrayList<>();
    init.add(forward.output(n));
    leading.add(j);
    for (int k = 0; k < f.size(); k++) {
      int i = f.get(k);
      init.add(grads.get(i).isPresent() ? grads.get(i).get() : tf.zerosLike(op.output(i)));
      leading.add(gParams.get(k));
    }
    for (int k = 0; k < c.size(); k++) {
      init.add(tf.zerosLike(op.input(n + c.get(k))));
      leading.add(accParams.get(k));
    }
    List<Output> captures = back.captures();
    List<Output> stacks = new ArrayList<>();
    for (int k = 0; k < stacked.size(); k++) {
      stacks.add(forward.output(n + 1 + k));
    }
    Subgraph backBody = back.finish(leading, captures, backResults, stackParams);
    Graph bcondGraph = new Graph();
    List<Output> bparams = new ArrayList<>();
    for (Output p : backBody.parameters()) {
      bparams.add(param(bcondGraph, p.type()));
    }
    Ops inCond = Ops.create(bcondGraph);
    Output more = inCond.greater(bparams.get(0), inCond.constant(0));
    OperationBuilder bb = tf.builder("While", op.name() + "_backward");
    bb.addInputs(init).addInputs(captures).addInputs(stacks);
    bb.addSubgraph(new Subgraph(bcondGraph, bparams, List.of(more))).addSubgraph(backBody);
    if (!pushed.isEmpty()) {
      bb.setAttr(ControlFlowOp.NUM_STACKED, (long) pushed.size());
    }
    Operation backward = bb.build();
    for (int k = 0; k < f.size(); k++) {
      out.set(f.get(k), Optional.of(backward.output(1 + k)));
    }
    for (int k = 0; k < c.size(); k++) {
      out.set(n + c.get(k), Optional.of(backward.output(1 + f.size() + k)));
    }
    // The backward loop's iteration i runs the forward loop's iteration T-1-i, which read element i of
    // each stack: its pushed values are the stack's gradient in the stack's own order.
    for (int k = 0; k < pushed.size(); k++) {
      out.set(n + pushed.get(k), Optional.of(backward.output(1 + f.size() + c.size() + k)));
    }
    return out;
  }

  /**
   * A body that assigns variables cannot be differentiated: the gradient recomputes the forward body,
   * which would assign them again.
   */
  private static void refuseAssigns(Operation op) {
    for (Subgraph s : op.subgraphs()) {
      if (ControlFlowOp.assignsAny(s)) {
        throw new IllegalArgumentException("gradients: " + op + " assigns variables in its body; gradients through"
            + " a cond or whileLoop that assigns variables are not supported");
      }
    }
  }

  /**
   * A copy of {@code w}, a loop of the body being differentiated, in {@code g}, the backward body under
   * construction: its inputs, values of that body, are captured (each read back from the stacks of the
   * forward loop), so it recomputes the loop of the same iteration.
   */
  private static Operation recompute(Graph g, Operation w) {
    OperationBuilder b = new OperationBuilder(g, w.type(), null).autoName(w.name() + "_recomputed");
    w.inputs().forEach(b::addInput);
    b.setAttrs(w.attrs());
    w.subgraphs().forEach(b::addSubgraph);
    return b.build();
  }

  /** Whether {@code v} is a stacked output of a While ({@link ControlFlowOp#NUM_STACKED}). */
  private static boolean isStack(Output v) {
    Operation w = v.op();
    return w.def() instanceof ControlFlowOp.While
        && v.index() >= w.numOutputs() - w.attrs().getLong(ControlFlowOp.NUM_STACKED);
  }

  /**
   * The element gradient inside {@code d}, the gradient of stack {@code stack} in one iteration: the
   * form {@code StackRead}'s gradient builds (the element written into zeros); anything else (a stack
   * read more than once an iteration) is not supported.
   */
  private static Output stackElement(Operation op, Output stack, Output d) {
    Operation w = d.op();
    if (w.type().equals("TensorArrayWrite")
        && w.input(0).op().def().primitive().equals(Optional.of(Primitive.ZEROS_LIKE))) {
      return w.input(2);
    }
    throw new IllegalArgumentException("gradients: " + op + " reads the recorded stack '" + stack.name()
        + "' other than once per iteration at the iteration's index; differentiating such a loop gradient"
        + " (second order through whileLoop) is not supported");
  }

  /**
   * {@code sum + d}; when {@code d} is a tensor array's read gradient (one element written into zeros),
   * the element is added into {@code sum} alone, so that summing a read per iteration costs an element.
   */
  private static Output accumulate(Ops tf, Output sum, Output d) {
    Operation w = d.op();
    if (w.type().equals("TensorArrayWrite") && w.input(0).op().def().primitive().equals(Optional.of(Primitive.ZEROS_LIKE))
        && w.input(0).op().input(0).type().equals(sum.type())) {
      return tf.opBuilder("TensorArrayAccumulate").addInput(sum).addInput(w.input(1)).addInput(w.input(2)).build()
          .output(0);
    }
    return tf.add(sum, d);
  }

  private static Output param(Graph g, TensorType t) {
    return new OperationBuilder(g, "Parameter", null).autoName("arg").setAttr("dtype", t.dtype())
        .setAttr("shape", t.shape()).build().output(0);
  }
}
