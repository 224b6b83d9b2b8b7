package dev.kiln.graph;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Builds {@code If} and {@code While} nodes ({@link ControlFlowOp}) from Java closures. A closure
 * builds its values with the caller's {@link Ops}: while it runs, that Ops's graph redirects its
 * builders into the body's own graph, and a value of an enclosing graph used there becomes a
 * Parameter of the body (captured), fed by an input of the control-flow node. Bodies nest: a value
 * captured two levels down is captured by each level in between.
 */
final class ControlFlow {
  private ControlFlow() {}

  static List<Output> cond(Ops tf, Output pred, Supplier<List<Output>> thenBranch,
      Supplier<List<Output>> elseBranch) {
    Objects.requireNonNull(pred, "cond: pred is null");
    Objects.requireNonNull(thenBranch, "cond: thenBranch is null");
    Objects.requireNonNull(elseBranch, "cond: elseBranch is null");
    Graph root = tf.rootGraph();
    Graph target = root.buildTarget();
    return target.atomically(() -> {
      OperationBuilder b = tf.builder("If", "cond");
      String node = "If '" + b.nodeName() + "'";
      Output p = target.captured(pred, () -> node + ": predicate '" + pred.name() + "'");
      if (p.dtype() != DType.BOOL || (p.shape().hasKnownRank() && p.shape().rank() != 0)) {
        throw new IllegalArgumentException(node + ": the predicate '" + pred.name() + "' must be a scalar bool, got "
            + p.type());
      }
      BodyScope thenScope = new BodyScope(root, target);
      List<Output> a = thenScope.build(thenBranch::get, node, "then branch");
      BodyScope elseScope = new BodyScope(root, target);
      List<Output> e = elseScope.build(elseBranch::get, node, "else branch");
      List<Output> captures = union(thenScope.captures(), elseScope.captures());
      b.addInput(p).addInputs(captures);
      b.addSubgraph(thenScope.finish(List.of(), captures, a)).addSubgraph(elseScope.finish(List.of(), captures, e));
      return b.build().outputs();
    });
  }

  static List<Output> whileLoop(Ops tf, Function<List<Output>, Output> cond,
      Function<List<Output>, List<Output>> body, List<Output> loopVars, WhileOptions options) {
    Objects.requireNonNull(cond, "whileLoop: cond is null");
    Objects.requireNonNull(body, "whileLoop: body is null");
    Objects.requireNonNull(loopVars, "whileLoop: loopVars is null");
    Objects.requireNonNull(options, "whileLoop: options is null");
    if (loopVars.isEmpty()) {
      throw new IllegalArgumentException("whileLoop: no loop variables given");
    }
    Graph root = tf.rootGraph();
    Graph target = root.buildTarget();
    return target.atomically(() -> {
      OperationBuilder b = tf.builder("While", "while");
      String node = "While '" + b.nodeName() + "'";
      int n = loopVars.size();
      List<Output> init = new ArrayList<>(n);
      List<TensorType> types = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Output v = loopVars.get(i);
        int k = i;
        Objects.requireNonNull(v, () -> node + ": loop variable " + k + " is null");
        Output inTarget = target.captured(v, () -> node + ": loop variable " + k + " '" + v.name() + "'");
        init.add(inTarget);
        Shape invariant = options.shapeInvariants().get(i);
        if (invariant != null && !v.shape().isCompatibleWith(invariant)) {
          throw new IllegalArgumentException(node + ": loop variable " + i + " '" + v.name() + "' has shape "
              + v.shape() + ", which is not an instance of its shape invariant " + invariant);
        }
        types.add(new TensorType(v.dtype(), invariant != null ? invariant : v.shape()));
      }
      for (int i : options.shapeInvariants().keySet()) {
        if (i < 0 || i >= n) {
          throw new IllegalArgumentException(node + ": shape invariant for loop variable " + i + ", but there are "
              + n + " loop variables");
        }
      }
      BodyScope condScope = new BodyScope(root, target);
      List<Output> condParams = condScope.loopParameters(types);
      List<Output> c = condScope.build(() -> {
        Output r = cond.apply(condParams);
        Objects.requireNonNull(r, () -> node + ": the condition returned null");
        return List.of(r);
      }, node, "condition");
      BodyScope bodyScope = new BodyScope(root, target);
      List<Output> bodyParams = bodyScope.loopParameters(types);
      List<Output> next = bodyScope.build(() -> body.apply(bodyParams), node, "body");
      if (next.size() != n) {
        throw new IllegalArgumentException(node + ": the body returns " + next.size()
            + (next.size() == 1 ? " value" : " values") + " for " + n + " loop "
            + (n == 1 ? "variable" : "variables") + " (returned: "
            + next.stream().map(o -> "'" + o.name() + "' " + o.type()).toList() + "; loop variables: "
            + loopVars.stream().map(o -> "'" + o.name() + "' " + o.type()).toList() + ")");
      }
      List<Output> captures = union(condScope.captures(), bodyScope.captures());
      b.addInputs(init).addInputs(captures);
      b.addSubgraph(condScope.finish(condParams, captures, c)).addSubgraph(bodyScope.finish(bodyParams, captures, next));
      if (options.maximumIterations() >= 0) {
        b.setAttr(ControlFlowOp.MAXIMUM_ITERATIONS, options.maximumIterations());
      }
      return b.build().outputs();
    });
  }

  private static List<Output> union(List<Output> a, List<Output> b) {
    // Outputs compare by identity: the set keeps each captured value once, in first-capture order.
    LinkedHashSet<Output> all = new LinkedHashSet<>(a);
    all.addAll(b);
    return List.copyOf(all);
  }

  /** One body under construction: its graph, the graph its node goes in, and what it captured. */
  static final class BodyScope {
    private final Graph root;
    private final Graph parent;
    private final Graph body = new Graph();
    /** Value of the parent graph -> the body Parameter standing for it, in capture order. */
    private final Map<Output, Output> captured = new java.util.LinkedHashMap<>();

    BodyScope(Graph root, Graph parent) {
      this.root = root;
      this.parent = parent;
    }

    Graph graph() {
      return body;
    }

    /** One Parameter per loop variable, of the loop variable's type (its shape invariant). */
    List<Output> loopParameters(List<TensorType> types) {
      List<Output> ps = new ArrayList<>(types.size());
      for (TensorType t : types) {
        ps.add(parameter("arg", t));
      }
      return List.copyOf(ps);
    }

    private Output parameter(String base, TensorType t) {
      return new OperationBuilder(body, "Parameter", null).autoName(base).setAttr("dtype", t.dtype())
          .setAttr("shape", t.shape()).build().output(0);
    }

    /**
     * Runs {@code fn} with the root graph's builders redirected into this body, then captures the
     * results that are values of enclosing graphs.
     */
    List<Output> build(Supplier<List<Output>> fn, String node, String what) {
      Graph previous = root.redirectTo(body);
      body.setCapturer(this::capture);
      try {
        List<Output> results = fn.get();
        Objects.requireNonNull(results, () -> node + ": the " + what + " returned null");
        List<Output> out = new ArrayList<>(results.size());
        for (int i = 0; i < results.size(); i++) {
          Output r = results.get(i);
          int k = i;
          Objects.requireNonNull(r, () -> node + ": the " + what + " returned null as value " + k);
          out.add(body.captured(r, () -> node + ": the " + what + "'s value " + k + " '" + r.name() + "'"));
        }
        return List.copyOf(out);
      } finally {
        body.setCapturer(null);
        root.redirectTo(previous);
      }
    }

    /** Resolves values of one foreign graph (a body being differentiated) instead of capturing them. */
    private Graph foreign;
    private java.util.function.UnaryOperator<Output> foreignResolver;

    void resolveForeign(Graph g, java.util.function.UnaryOperator<Output> resolver) {
      foreign = g;
      foreignResolver = resolver;
    }

    /** A Parameter bound to an input the caller supplies after the body is built. */
    Output extraParameter(String base, TensorType t) {
      return parameter(base, t);
    }

    /** The Parameter standing for {@code v}, a value of an enclosing graph, made on first use. */
    Output capture(Output v) {
      if (foreign != null && v.graph() == foreign) {
        return foreignResolver.apply(v);
      }
      Output outer = parent.captured(v, () -> "value '" + v.name() + "' used in a control-flow body");
      Output p = captured.get(outer);
      if (p != null && body.contains(p.op())) {
        return p;
      }
      // A captured variable stays assignable inside the body: its Parameter names it.
      String variable = outer.op().type().equals("Variable") ? outer.op().name()
          : ControlFlowOp.isCapturedVariable(outer) ? outer.op().attrs().getString(ControlFlowOp.VARIABLE) : "";
      p = variable.isEmpty() ? parameter("capture", outer.type())
          : new OperationBuilder(body, "Parameter", null).autoName("capture").setAttr("dtype", outer.dtype())
              .setAttr("shape", outer.shape()).setAttr(ControlFlowOp.VARIABLE, variable).build().output(0);
      captured.put(outer, p);
      return p;
    }

    /** The captured values of the parent graph whose Parameters are still in the body, in capture order. */
    List<Output> captures() {
      List<Output> out = new ArrayList<>();
      captured.forEach((outer, p) -> {
        if (body.contains(p.op()) && parent.contains(outer.op())) {
          out.add(outer);
        }
      });
      return out;
    }

    /** The body as a subgraph: {@code leading} Parameters, then one per value of {@code captures}. */
    Subgraph finish(List<Output> leading, List<Output> captures, List<Output> results) {
      return finish(leading, captures, results, List.of());
    }

    /** As {@link #finish(List, List, List)}, then the {@code extra} Parameters. */
    Subgraph finish(List<Output> leading, List<Output> captures, List<Output> results, List<Output> extra) {
      List<Output> params = new ArrayList<>(leading);
      for (Output c : captures) {
        Output p = captured.get(c);
        params.add(p != null && body.contains(p.op()) ? p : parameter("capture", c.type()));
      }
      params.addAll(extra);
      return new Subgraph(body, params, results);
    }
  }
}
