package dev.kiln.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The control-flow op types, defined once here for the builders ({@link Ops#cond}, {@link Ops#whileLoop}),
 * the text format, the optimizer and the runtimes, which dispatch on these definitions rather than on
 * type names.
 *
 * <ul>
 *   <li>{@code If}: inputs {@code pred} (a scalar bool) then the captured values; two subgraphs, the
 *       then and else branches, each with one Parameter per captured value (same order) and the same
 *       number of results. Output i has the results' dtype and the most specific shape compatible with
 *       both branches' result i.
 *   <li>{@code While}: inputs the n initial loop values then the captured values; two subgraphs, the
 *       condition (one scalar bool result) and the body (n results, the next loop values), each with one
 *       Parameter per input. A loop Parameter's shape is the loop variable's shape invariant; the
 *       node's outputs have the loop Parameters' types. Attribute {@code maximum_iterations} (-1: none)
 *       ends the loop after that many iterations.
 * </ul>
 *
 * Both are {@link OpTrait#STATEFUL}: never folded or merged, since a body may draw random numbers and
 * folding a loop would run it at compile time.
 */
public sealed interface ControlFlowOp extends OpDef permits ControlFlowOp.Cond, ControlFlowOp.While {
  /** The attribute bounding a While's iterations. */
  String MAXIMUM_ITERATIONS = "maximum_iterations";

  /**
   * The attribute counting a While body's stacked results: the body's last {@code num_stacked}
   * results are not loop values but values pushed each iteration, and the node's last outputs are
   * those stacks, of type {@code [?, ...value]} (their length is the trip count). A stack is read
   * only by {@code StackRead} inside another body; the gradient of a loop records what it needs in
   * them.
   */
  String NUM_STACKED = "num_stacked";

  /**
   * The attribute naming, on a loop's gradient copy, the While it copies ("" on every other loop): the
   * copy has that loop's inputs (and its iteration counter's) and computes the same loop values, so the
   * optimizer lets one loop compute both ({@code cse}).
   */
  String FORWARD_OF = "forward_of";

  /**
   * The attribute of a body Parameter that captures a variable: the variable's name ("" for any
   * other Parameter has none). Such a Parameter is the variable's storage inside the body: the body may assign
   * it, and each iteration sees the previous one's assigns.
   */
  String VARIABLE = "variable";

  /** Whether {@code v} is a body Parameter standing for a captured variable (see {@link #VARIABLE}). */
  static boolean isCapturedVariable(Output v) {
    return v.op().type().equals("Parameter") && v.op().attrs().has(VARIABLE);
  }

  /**
   * The inputs of control-flow node {@code op} that are variables its bodies (at any depth) assign,
   * as input indices in increasing order.
   */
  static List<Integer> assignedInputs(Operation op) {
    List<Integer> out = new ArrayList<>();
    int skip = op.def() instanceof Cond ? 1 : 0;
    for (int i = skip; i < op.numInputs(); i++) {
      for (Subgraph s : op.subgraphs()) {
        if (assigns(s, s.parameters().get(i - skip))) {
          out.add(i);
          break;
        }
      }
    }
    return out;
  }

  /** Whether {@code body} (or a body nested in it) assigns its Parameter {@code p}. */
  static boolean assigns(Subgraph body, Output p) {
    if (!isCapturedVariable(p)) {
      return false;
    }
    for (Operation op : body.graph().operations()) {
      if (isAssign(op) && op.input(0) == p) {
        return true;
      }
      if (op.def() instanceof ControlFlowOp && op.inputs().contains(p)) {
        int skip = op.def() instanceof Cond ? 1 : 0;
        for (int i = skip; i < op.numInputs(); i++) {
          if (op.input(i) == p) {
            for (Subgraph s : op.subgraphs()) {
              if (assigns(s, s.parameters().get(i - skip))) {
                return true;
              }
            }
          }
        }
      }
    }
    return false;
  }

  private static boolean isAssign(Operation op) {
    return switch (op.type()) {
      case "Assign", "AssignAdd", "AssignSub" -> true;
      default -> false;
    };
  }

  /** Whether {@code body} or a body nested in it assigns a variable. */
  static boolean assignsAny(Subgraph body) {
    for (Operation op : body.graph().operations()) {
      if (isAssign(op)) {
        return true;
      }
      for (Subgraph s : op.subgraphs()) {
        if (assignsAny(s)) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  default Set<OpTrait> traits() {
    return Set.of(OpTrait.STATEFUL);
  }

  @Override
  default int maxInputs() {
    return BuiltinOps.VARIADIC;
  }

  /** The conditional: {@code subgraphs().get(0)} runs when input 0 is true, else {@code get(1)}. */
  record Cond() implements ControlFlowOp {
    @Override
    public String type() {
      return "If";
    }

    @Override
    public AttrSchema attrSchema() {
      return AttrSchema.none();
    }

    @Override
    public int minInputs() {
      return 1;
    }

    @Override
    public Optional<GradientFunction> gradient() {
      return Optional.of(ControlFlowGradients::cond);
    }

    @Override
    public List<TensorType> infer(OpContext c) {
      if (c.subgraphs().size() != 2) {
        throw c.error("expects two subgraphs (then and else branches), got %d", c.subgraphs().size());
      }
      Output pred = c.inputs().get(0);
      if (pred.dtype() != DType.BOOL || (pred.shape().hasKnownRank() && pred.shape().rank() != 0)) {
        throw c.error("the predicate '%s' must be a scalar bool, got %s", pred.name(), pred.type());
      }
      Subgraph then = c.subgraphs().get(0);
      Subgraph other = c.subgraphs().get(1);
      checkParameters(c, then, "then branch", 1);
      checkParameters(c, other, "else branch", 1);
      List<Output> a = then.results();
      List<Output> b = other.results();
      if (a.size() != b.size()) {
        throw c.error("the then branch returns %d %s but the else branch returns %d (then: %s; else: %s)",
            a.size(), a.size() == 1 ? "value" : "values", b.size(), describe(a), describe(b));
      }
      List<TensorType> out = new ArrayList<>(a.size());
      for (int i = 0; i < a.size(); i++) {
        TensorType x = a.get(i).type();
        TensorType y = b.get(i).type();
        if (x.dtype() != y.dtype()) {
          throw c.error("result %d has dtype %s in the then branch ('%s') but %s in the else branch ('%s')", i,
              x.dtype().shortName(), a.get(i).name(), y.dtype().shortName(), b.get(i).name());
        }
        out.add(new TensorType(x.dtype(), mostSpecificCompatible(x.shape(), y.shape())));
      }
      return out;
    }
  }

  /** The loop: {@code subgraphs().get(0)} is the condition, {@code get(1)} the body. */
  record While() implements ControlFlowOp {
    @Override
    public String type() {
      return "While";
    }

    @Override
    public AttrSchema attrSchema() {
      return AttrSchema.of(AttrDef.optional(MAXIMUM_ITERATIONS, AttrType.INT, -1L)
          .constrained(AttrDef.Constraint.range(-1, Long.MAX_VALUE)),
          AttrDef.optional(NUM_STACKED, AttrType.INT, 0L).constrained(AttrDef.Constraint.range(0, Integer.MAX_VALUE)),
          AttrDef.optional(FORWARD_OF, AttrType.STRING, ""));
    }

    @Override
    public int minInputs() {
      return 1;
    }

    @Override
    public Optional<GradientFunction> gradient() {
      return Optional.of(ControlFlowGradients::whileLoop);
    }

    @Override
    public List<TensorType> infer(OpContext c) {
      if (c.subgraphs().size() != 2) {
        throw c.error("expects two subgraphs (condition and body), got %d", c.subgraphs().size());
      }
      Subgraph cond = c.subgraphs().get(0);
      Subgraph body = c.subgraphs().get(1);
      checkParameters(c, cond, "condition", 0);
      checkParameters(c, body, "body", 0);
      int stacked = (int) c.attrs().getLong(NUM_STACKED);
      int n = body.results().size() - stacked;
      if (n <= 0 || n > c.numInputs()) {
        throw c.error("the body returns %d values for %d inputs (loop variables then captured values)", n,
            c.numInputs());
      }
      if (cond.results().size() != 1) {
        throw c.error("the condition returns %d values; it must return one scalar bool", cond.results().size());
      }
      Output p = cond.results().get(0);
      if (p.dtype() != DType.BOOL || (p.shape().hasKnownRank() && p.shape().rank() != 0)) {
        throw c.error("the condition must return a scalar bool, got '%s' %s", p.name(), p.type());
      }
      List<TensorType> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        Output param = body.parameters().get(i);
        Output next = body.results().get(i);
        if (next.dtype() != param.dtype()) {
          throw c.error("loop variable %d ('%s') is %s but the body returns %s ('%s') for it", i,
              c.inputs().get(i).name(), param.dtype().shortName(), next.dtype().shortName(), next.name());
        }
        if (!next.shape().isCompatibleWith(param.shape())) {
          throw c.error("loop variable %d ('%s') has shape %s but the body returns shape %s ('%s') for it;"
              + " declare a less specific shape invariant (WhileOptions.shapeInvariant) if its shape changes"
              + " across iterations", i, c.inputs().get(i).name(), param.shape(), next.shape(), next.name());
        }
        out.add(param.type());
      }
      for (int i = n; i < n + stacked; i++) {
        out.add(stackType(body.results().get(i).type()));
      }
      return out;
    }
  }

  /**
   * Each of {@code body}'s Parameters matches input {@code skip + i} in dtype and has a shape the
   * input's is compatible with (a loop variable's may be less specific: its shape invariant).
   */
  private static void checkParameters(OpContext c, Subgraph body, String what, int skip) {
    int want = c.numInputs() - skip;
    if (body.parameters().size() != want) {
      throw c.error("the %s has %d parameters for %d %s", what, body.parameters().size(), want,
          skip == 1 ? "captured values" : "inputs");
    }
    for (int i = 0; i < want; i++) {
      Output param = body.parameters().get(i);
      Output in = c.inputs().get(skip + i);
      if (param.dtype() != in.dtype() || !in.shape().isCompatibleWith(param.shape())) {
        throw c.error("the %s's parameter %d '%s' is %s but input %d '%s' is %s", what, i, param.name(),
            param.type(), skip + i, in.name(), in.type());
      }
    }
  }

  /** The type of a stack of values of type {@code t}: {@code [?, ...t]}. */
  static TensorType stackType(TensorType t) {
    if (!t.shape().hasKnownRank()) {
      return new TensorType(t.dtype(), Shape.unknown());
    }
    int[] dims = new int[t.shape().rank() + 1];
    dims[0] = -1;
    System.arraycopy(t.shape().dims(), 0, dims, 1, t.shape().rank());
    return new TensorType(t.dtype(), Shape.of(dims));
  }

  private static String describe(List<Output> values) {
    return values.stream().map(v -> "'" + v.name() + "' " + v.type()).toList().toString();
  }

  /**
   * The most specific shape both {@code a} and {@code b} are instances of: equal dimensions kept,
   * differing ones unknown, unknown rank when the ranks differ.
   */
  static Shape mostSpecificCompatible(Shape a, Shape b) {
    if (!a.hasKnownRank() || !b.hasKnownRank() || a.rank() != b.rank()) {
      return Shape.unknown();
    }
    int[] dims = new int[a.rank()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = a.dim(i) == b.dim(i) ? a.dim(i) : -1;
    }
    return Shape.of(dims);
  }
}
