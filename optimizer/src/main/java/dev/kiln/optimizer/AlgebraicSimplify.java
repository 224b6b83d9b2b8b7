package dev.kiln.optimizer;

import dev.kiln.graph.Elementwise;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Algebraic simplification: local rules that replace a node by a value the graph already has (x*1,
 * 1*x, x+0, 0+x, x-0, x/1, neg(neg x), not(not x), transpose(transpose x) with composed perms the
 * identity, transposes by the identity perm, reshape or squeeze to the same shape, Identity,
 * reductions over no axes, cast to the same dtype, concat of one value, a full slice, zero padding)
 * or two transposes by one. Guarantees: a rule fires only where the result is the same for every
 * run-time shape (x*1 never where the 1 broadcasts x to a bigger shape) and every value, NaN and
 * infinities included (x*0 is never 0); the one inexactness accepted, as in XLA and Grappler, is that
 * x+0 and reductions over no axes may turn -0.0 into +0.0. Never rewrites a fed value or a node that
 * reads a fed intermediate through a matched pattern, a node with control inputs, a target or
 * control input of others, or a fetched Identity, and never replaces a copy of a variable's value (x*1 with x a variable) by the variable,
 * whose readers might then read it after an assign instead of before. Rules see the already
 * simplified inputs, so one sweep in topological order reaches a fixpoint. Nodes left dead are
 * removed.
 */
public final class AlgebraicSimplify implements Pass {
  /** A pass with no state of its own; the {@link PassManager} runs it. */
  public AlgebraicSimplify() {}

  @Override
  public String name() {
    return "simplify";
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    // Nodes run for their own sake (targets, control inputs) stay: standing in for them, the value
    // they read would itself become a node to run, and a fed placeholder cannot run.
    Set<Operation> awaited = new HashSet<>(p.targets());
    p.graph().operations().forEach(op -> awaited.addAll(op.controlInputs()));
    // A dry run on the program as it is: until a rule fires the rebuilt graph is a copy, so if none
    // fires here none fires at all, and the graph is not rebuilt.
    Values unchanged = Values.of(p);
    SymbolicShapes unchangedShapes = new SymbolicShapes(unchanged);
    if (p.graph().operations().stream().noneMatch(op -> rewritable(op, p, awaited)
        && SimplifyRules.apply(unchanged, unchangedShapes, op, p).isPresent())) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    Values values = Values.of(rw);
    SymbolicShapes shapes = new SymbolicShapes(values);
    int fired = 0;
    for (Operation op : p.graph().operations()) {
      Optional<Rewrite> r = rewritable(op, p, awaited) ? SimplifyRules.apply(values, shapes, op, p) : Optional.empty();
      if (r.isEmpty()) {
        rw.copy(op);
        continue;
      }
      stats.add("rule " + r.get().rule(), 1);
      Output value = r.get().value();
      if (r.get().transposeBy().isPresent()) {
        value = rw.newNodeReplacing("Transpose", op).addInput(value).setAttr("perm", r.get().transposeBy().get())
            .setDevice(op.device()).build().output(0);
      }
      rw.replace(op, value);
      fired++;
    }
    if (fired == 0) {
      return p;
    }
    stats.add("nodes simplified", fired);
    return Prune.removeDead(rw.finish(), stats);
  }

  private static boolean rewritable(Operation op, Program p, Set<Operation> awaited) {
    return op.numOutputs() == 1 && op.controlInputs().isEmpty() && !p.fed().contains(op.output(0))
        && !awaited.contains(op);
  }

  /**
   * A rule's result: the value standing for the node (transposed by {@code transposeBy} when
   * present: two transposes made one), named by the rule that found it.
   */
  record Rewrite(String rule, Output value, Optional<int[]> transposeBy) {
    Rewrite(String rule, Output value) {
      this(rule, value, Optional.empty());
    }
  }

  /** The rules, each a method that looks at one node with its rewritten inputs. */
  static final class SimplifyRules {
    private SimplifyRules() {}

    static Optional<Rewrite> apply(Values values, SymbolicShapes shapes, Operation op, Program p) {
      Optional<Rewrite> r = match(values, shapes, op, p);
      // A node that copies a variable's value reads it at its own place in the run; its readers,
      // given the variable itself, might read it later, after an assign. Views read nothing.
      if (r.isPresent() && !op.def().traits().contains(OpTrait.VIEW) && aliasesVariable(values, r.get().value())) {
        return Optional.empty();
      }
      return r;
    }

    private static Optional<Rewrite> match(Values values, SymbolicShapes shapes, Operation op, Program p) {
      List<Output> in = op.inputs().stream().map(values::map).toList();
      Optional<Primitive> primitive = Elementwise.primitive(op);
      if (primitive.isPresent()) {
        return Optional.ofNullable(switch (primitive.get()) {
          case MUL -> neutral(values, shapes, in, 1.0, true, "mul-one");
          case ADD -> neutral(values, shapes, in, 0.0, true, "add-zero");
          case SUB -> rightZero(values, shapes, in);
          case DIV -> neutral(values, shapes, in, 1.0, false, "div-one");
          case NEG, LOGICAL_NOT -> involution(values, op, in.get(0));
          case CAST -> op.attrs().getDType("dtype") == in.get(0).dtype() ? new Rewrite("cast-same", in.get(0)) : null;
          default -> null;
        });
      }
      return Optional.ofNullable(switch (op.type()) {
        case "ReduceSumLike" -> shapes.sameShape(in.get(0), in.get(1)) ? new Rewrite("sum-like-same", in.get(0)) : null;
        case "Transpose" -> transpose(values, op, in.get(0));
        case "Reshape", "Squeeze" -> sameShape(op, in.get(0));
        case "Identity" -> p.fetches().contains(op.output(0)) ? null : new Rewrite("identity", in.get(0));
        case "Sum", "Mean", "Max", "Min", "Prod" ->
            op.attrs().getLongs("axes").isEmpty() ? new Rewrite("reduce-no-axes", in.get(0)) : null;
        case "Concat" -> in.size() == 1 ? new Rewrite("concat-one", in.get(0)) : null;
        case "Slice" -> fullSlice(op, in.get(0));
        case "Pad" -> op.attrs().getLongs("paddings").stream().allMatch(v -> v == 0) ? new Rewrite("pad-zero", in.get(0)) : null;
        default -> null;
      });
    }

    /**
     * x op c (or c op x when {@code commutes}) with c all {@code v} (a constant, or OnesLike/ZerosLike/
     * Fill and views of them: gradients' seeds) and broadcasting into x: x.
     */
    private static Rewrite neutral(Values values, SymbolicShapes shapes, List<Output> in, double v, boolean commutes,
        String rule) {
      for (int k = commutes ? 0 : 1; k < 2; k++) {
        Output x = in.get(1 - k);
        Optional<Double> c = Constants.fillValue(values, in.get(k));
        if (c.isPresent() && c.get() == v && shapes.broadcastsInto(in.get(k), x)) {
          return new Rewrite(rule, x);
        }
      }
      return null;
    }

    /** x - c with c all +0: x, exactly (x - (-0.0) would turn -0.0 into +0.0). */
    private static Rewrite rightZero(Values values, SymbolicShapes shapes, List<Output> in) {
      Optional<Double> c = Constants.fillValue(values, in.get(1));
      return c.isPresent() && Double.doubleToRawLongBits(c.get()) == 0 && shapes.broadcastsInto(in.get(1), in.get(0))
          ? new Rewrite("sub-zero", in.get(0)) : null;
    }

    /** f(f(x)) = x for f = Neg, LogicalNot, when the inner node may be looked through. */
    private static Rewrite involution(Values values, Operation op, Output in) {
      return in.op().type().equals(op.type()) && transparent(values, in)
          ? new Rewrite(Elementwise.is(op, Primitive.NEG) ? "neg-neg" : "not-not", in.op().input(0)) : null;
    }

    private static Rewrite transpose(Values values, Operation op, Output in) {
      int[] perm = op.attrs().getInts("perm");
      if (isIdentity(perm)) {
        return new Rewrite("transpose-identity", in);
      }
      if (!in.op().type().equals("Transpose") || !transparent(values, in)) {
        return null;
      }
      int[] inner = in.op().attrs().getInts("perm");
      int[] composed = new int[perm.length];
      for (int i = 0; i < perm.length; i++) {
        composed[i] = inner[perm[i]];
      }
      Output x = in.op().input(0);
      if (isIdentity(composed)) {
        return new Rewrite("transpose-transpose", x);
      }
      return new Rewrite("transpose-compose", x, Optional.of(composed));
    }

    /** A view whose input already has the output's (fully defined) shape. */
    private static Rewrite sameShape(Operation op, Output in) {
      Shape s = in.shape();
      return s.isFullyDefined() && s.equals(op.outputType(0).shape()) ? new Rewrite("reshape-same", in) : null;
    }

    /** Slice from 0 taking every element (-1 or the full known size) along each axis. */
    private static Rewrite fullSlice(Operation op, Output in) {
      List<Long> begin = op.attrs().getLongs("begin");
      List<Long> size = op.attrs().getLongs("size");
      for (int i = 0; i < begin.size(); i++) {
        long z = size.get(i);
        if (begin.get(i) != 0 || (z != -1 && (!in.shape().hasKnownRank() || z != in.shape().dim(i)))) {
          return null;
        }
      }
      return new Rewrite("slice-full", in);
    }

    /** Whether {@code v} is a variable's storage: a variable read, an assign's output, or a view of one. */
    private static boolean aliasesVariable(Values values, Output v) {
      while (!values.isFed(v)) {
        Operation op = v.op();
        switch (op.type()) {
          case "Variable", "Assign", "AssignAdd", "AssignSub" -> {
            return true;
          }
          default -> {
            if (!op.def().traits().contains(OpTrait.VIEW)) {
              return false;
            }
            v = op.input(0);
          }
        }
      }
      return false;
    }

    /** Whether a pattern may look through the node producing {@code v}: not fed, no control inputs. */
    private static boolean transparent(Values values, Output v) {
      return !values.isFed(v) && v.op().controlInputs().isEmpty();
    }

    private static boolean isIdentity(int[] perm) {
      for (int i = 0; i < perm.length; i++) {
        if (perm[i] != i) {
          return false;
        }
      }
      return true;
    }
  }
}
