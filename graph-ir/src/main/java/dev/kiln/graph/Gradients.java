package dev.kiln.graph;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reverse-mode differentiation as a graph transformation: walks the nodes between the xs and the ys
 * in reverse creation order, calling each node's {@link GradientFunction} and summing (AddN) the
 * gradients of values used more than once. Only float edges that a node reads carry gradients.
 */
final class Gradients {
  private Gradients() {}

  static List<Output> build(Ops tf, List<Output> ys, List<Output> xs, List<Output> gradYs) {
    Graph graph = tf.graph();
    check(graph, ys, xs, gradYs);
    return graph.atomically(() -> new Gradients.Pass(tf.withSubScope("gradients"), graph).run(ys, xs, gradYs));
  }

  /**
   * Gradients of {@code ys}, values of {@code forward} (a body being differentiated), with respect to
   * {@code xs}, also of {@code forward}, seeded with {@code gradYs}: the gradient nodes are built
   * through {@code tf} into the graph it builds into now, where each forward value they read is
   * captured (for a loop body: read back from the forward loop's stacks). Empty for an x no y depends on.
   */
  static List<Optional<Output>> buildAcross(Ops tf, Graph forward, List<Output> ys, List<Output> xs,
      List<Output> gradYs) {
    Pass pass = new Gradients.Pass(tf.withSubScope("gradients"), forward);
    pass.markDependents(xs);
    for (int i = 0; i < ys.size(); i++) {
      pass.contribute(ys.get(i), gradYs.get(i));
    }
    int top = ys.stream().mapToInt(y -> y.op().id()).max().orElse(-1);
    for (int id = top; id >= 0; id--) {
      if (pass.onPath[id]) {
        pass.backprop(pass.ops.get(id));
      }
    }
    List<Optional<Output>> result = new ArrayList<>(xs.size());
    for (Output x : xs) {
      result.add(pass.total(x));
    }
    return result;
  }

  private static void check(Graph graph, List<Output> ys, List<Output> xs, List<Output> gradYs) {
    if (ys.isEmpty()) {
      throw new IllegalArgumentException("gradients: no ys given");
    }
    for (Output y : ys) {
      requireInGraph(graph, y, "y");
      if (!y.dtype().isFloating()) {
        throw new IllegalArgumentException("gradients: y '" + y.name() + "' has dtype " + y.dtype().shortName()
            + "; only float (f32, f64, f16, bf16) values can be differentiated");
      }
    }
    for (Output x : xs) {
      requireInGraph(graph, x, "x");
      if (!x.dtype().isFloating()) {
        throw new IllegalArgumentException("gradients: cannot differentiate with respect to x '" + x.name()
            + "' of dtype " + x.dtype().shortName() + "; only float (f32, f64, f16, bf16) values have gradients");
      }
    }
    if (!gradYs.isEmpty()) {
      if (gradYs.size() != ys.size()) {
        throw new IllegalArgumentException(
            "gradients: " + ys.size() + " ys but " + gradYs.size() + " gradYs (give one per y, or none)");
      }
      for (int i = 0; i < ys.size(); i++) {
        Output gy = gradYs.get(i);
        Output y = ys.get(i);
        requireInGraph(graph, gy, "gradY");
        if (gy.dtype() != y.dtype() || !gy.shape().isCompatibleWith(y.shape())) {
          throw new IllegalArgumentException("gradients: gradY " + i + " '" + gy.name() + "' is " + gy.type()
              + " but y '" + y.name() + "' is " + y.type());
        }
      }
    }
  }

  private static void requireInGraph(Graph graph, Output v, String what) {
    graph.requireContains(v.op(), () -> "gradients: " + what + " '" + v.name() + "'");
  }

  /** One gradients call: its dependency marks and pending gradient contributions. */
  private static final class Pass {
    private final Ops tf;
    private final List<Operation> ops;
    /** Float values that depend on some x through differentiable edges. */
    private final Set<Output> dependsOnX = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    private final boolean[] onPath;
    private final Map<Output, List<Output>> pending = new IdentityHashMap<>();

    Pass(Ops tf, Graph graph) {
      this.tf = tf;
      this.ops = graph.operations();
      this.onPath = new boolean[ops.size()];
    }

    List<Output> run(List<Output> ys, List<Output> xs, List<Output> gradYs) {
      markDependents(xs);
      for (int i = 0; i < ys.size(); i++) {
        Output y = ys.get(i);
        Output seed = gradYs.isEmpty() ? tf.withSubScope("seed").onesLike(y) : gradYs.get(i);
        contribute(y, seed);
      }
      int top = ys.stream().mapToInt(y -> y.op().id()).max().orElseThrow();
      for (int id = top; id >= 0; id--) {
        if (onPath[id]) {
          backprop(ops.get(id));
        }
      }
      List<Output> result = new ArrayList<>(xs.size());
      for (Output x : xs) {
        result.add(total(x).orElseGet(() -> tf.withSubScope("unconnected").zerosLike(x)));
      }
      return List.copyOf(result);
    }

    private void markDependents(List<Output> xs) {
      dependsOnX.addAll(xs);
      int from = xs.stream().mapToInt(x -> x.op().id()).min().orElse(ops.size());
      for (int id = from; id < ops.size(); id++) {
        Operation op = ops.get(id);
        if (OpRegistry.findGradient(op.type()).orElse(null) == GradientFunction.NONE) {
          continue; // StopGradient and the like: nothing flows back through them
        }
        for (int i = 0; i < op.numInputs(); i++) {
          if (carriesGradient(op, i) && dependsOnX.contains(op.input(i))) {
            onPath[id] = true;
            break;
          }
        }
        if (onPath[id]) {
          for (Output out : op.outputs()) {
            if (out.dtype().isFloating()) {
              dependsOnX.add(out);
            }
          }
        }
      }
    }

    private static boolean carriesGradient(Operation op, int i) {
      return op.def().readsInput(i) && op.input(i).dtype().isFloating();
    }

    private void backprop(Operation op) {
      List<Optional<Output>> outGrads = new ArrayList<>(op.numOutputs());
      boolean any = false;
      for (Output out : op.outputs()) {
        Optional<Output> g = total(out);
        any |= g.isPresent();
        outGrads.add(g);
      }
      if (!any) {
        return;
      }
      GradientFunction fn = OpRegistry.findGradient(op.type()).orElseThrow(() -> new IllegalArgumentException(
          "gradients: no gradient registered for op type '" + op.type() + "' (node '" + op.name()
              + "'), which lies between the xs and the ys; register one with OpRegistry.registerGradient"));
      List<Optional<Output>> inGrads = fn.apply(tf.withSubScope(op.name() + "_grad"), op, List.copyOf(outGrads));
      if (inGrads.size() != op.numInputs()) {
        throw new IllegalStateException("gradients: the gradient of " + op + " returned " + inGrads.size()
            + " gradients for " + op.numInputs() + " inputs");
      }
      for (int i = 0; i < op.numInputs(); i++) {
        Output in = op.input(i);
        Optional<Output> g = inGrads.get(i);
        if (g.isEmpty() || !carriesGradient(op, i) || !dependsOnX.contains(in)) {
          continue;
        }
        Output gi = g.get();
        if (gi.dtype() != in.dtype() || !gi.shape().isCompatibleWith(in.shape())) {
          throw new IllegalStateException("gradients: the gradient of " + op + " for input " + i + " is "
              + gi.type() + " but the input '" + in.name() + "' is " + in.type());
        }
        contribute(in, gi);
      }
    }

    private void contribute(Output v, Output g) {
      pending.computeIfAbsent(v, k -> new ArrayList<>(2)).add(g);
    }

    /** The summed gradient of v, cached so that each value is summed once. */
    private Optional<Output> total(Output v) {
      List<Output> gs = pending.get(v);
      if (gs == null || gs.isEmpty()) {
        return Optional.empty();
      }
      if (gs.size() > 1) {
        Output sum = tf.withSubScope(v.op().name() + "_grad").addN(gs);
        gs.clear();
        gs.add(sum);
      }
      return Optional.of(gs.get(0));
    }
  }
}
