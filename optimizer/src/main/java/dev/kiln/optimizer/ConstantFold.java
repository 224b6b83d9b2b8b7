package dev.kiln.optimizer;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Constant folding: a node whose inputs are all constants is evaluated once, through a
 * {@link ConstantEvaluator}, and replaced by a Const of its value; in one sweep in topological order
 * whole constant subgraphs fold. Guarantees: never folds a stateful or random op, a Placeholder or
 * Parameter, a fed value or a node that reads one; never materializes a result over the size cap;
 * the new Const keeps the control inputs of the folded node and of the constants it read, so every
 * effect and ordering the run had stays; a node the evaluator cannot compute (an error at run time,
 * such as integer division by zero) is left for the run to report. Nodes left dead are removed.
 */
public final class ConstantFold implements Pass {
  /** The default cap: results over a million elements are not materialized. */
  public static final long DEFAULT_MAX_ELEMENTS = 1 << 20;

  private final ConstantEvaluator evaluator;
  private final long maxElements;

  public ConstantFold(ConstantEvaluator evaluator) {
    this(evaluator, DEFAULT_MAX_ELEMENTS);
  }

  /** Folds results of at most {@code maxElements} elements (per output). */
  public ConstantFold(ConstantEvaluator evaluator, long maxElements) {
    this.evaluator = Objects.requireNonNull(evaluator, "evaluator");
    if (maxElements < 0) {
      throw new IllegalArgumentException("fold: maxElements must be >= 0, got " + maxElements);
    }
    this.maxElements = maxElements;
  }

  @Override
  public String name() {
    return "fold";
  }

  @Override
  public Program run(Program p, PassStatistics stats) {
    // Folding starts at a node of the source whose inputs are constants: without one, nothing folds
    // and the graph is not rebuilt.
    if (p.graph().operations().stream().noneMatch(op -> foldable(op, p) && op.inputs().stream()
        .allMatch(in -> in.op().type().equals("Const") && !p.fed().contains(in)))) {
      return p;
    }
    Rewriter rw = new Rewriter(p);
    int folded = 0;
    for (Operation op : p.graph().operations()) {
      if (foldable(op, p) && tryFold(rw, op)) {
        folded++;
      } else {
        rw.copy(op);
      }
    }
    if (folded == 0) {
      return p;
    }
    stats.add("nodes folded", folded);
    return Prune.removeDead(rw.finish(), stats);
  }

  private boolean foldable(Operation op, Program p) {
    if (op.numInputs() == 0 || op.numOutputs() == 0 || op.isStateful()) {
      return false;
    }
    for (Output o : op.outputs()) {
      if (p.fed().contains(o) || !o.shape().isFullyDefined() || o.shape().numElements() > maxElements) {
        return false;
      }
    }
    return true;
  }

  private boolean tryFold(Rewriter rw, Operation op) {
    List<Tensor> inputs = new ArrayList<>(op.numInputs());
    Set<Operation> control = new LinkedHashSet<>();
    for (Output in : op.inputs()) {
      Output v = rw.map(in);
      if (!v.op().type().equals("Const") || rw.isFed(v)) {
        return false;
      }
      inputs.add(v.op().attrs().getTensor("value"));
      control.addAll(v.op().controlInputs());
    }
    List<Tensor> values;
    try {
      values = evaluator.evaluate(op, inputs);
    } catch (RuntimeException e) {
      return false; // the run computes it, and reports any error there
    }
    if (values.size() != op.numOutputs()) {
      return false;
    }
    for (int i = 0; i < values.size(); i++) {
      TensorType want = op.outputType(i);
      Tensor v = values.get(i);
      if (v.dtype() != want.dtype() || !want.shape().isCompatibleWith(v.shape()) || v.size() > maxElements) {
        return false;
      }
    }
    for (Operation c : op.controlInputs()) {
      control.add(rw.map(c));
    }
    List<Output> consts = new ArrayList<>();
    for (Tensor v : values) {
      var b = rw.newNodeReplacing("Const", op).setAttr("value", v).setDevice(op.device());
      control.forEach(b::addControlInput);
      consts.add(b.build().output(0));
    }
    rw.replace(op, consts, consts.get(0).op());
    return true;
  }
}
