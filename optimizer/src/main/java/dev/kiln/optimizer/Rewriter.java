package dev.kiln.optimizer;

import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds a {@link Program} into a fresh graph, one source node at a time in topological order: a
 * pass copies a node ({@link #copy}), replaces its outputs with values already built
 * ({@link #replace}), or builds new nodes ({@link #newNode}) — the one mechanism every pass uses.
 * Copied nodes keep their names (so a Session finds its variables by name); new nodes get names that
 * clash with no source node.
 */
public final class Rewriter {
  private final Program source;
  private final Graph target;
  private final Map<Output, Output> values = new HashMap<>();
  private final Map<Operation, Operation> ops = new HashMap<>();
  private final Set<String> sourceNames = new HashSet<>();
  private final Set<Output> fedValues = new HashSet<>();

  public Rewriter(Program source) {
    this.source = source;
    this.target = new Graph(source.graph().name());
    for (Operation op : source.graph().operations()) {
      sourceNames.add(op.name());
    }
  }

  public Program source() {
    return source;
  }

  public Graph target() {
    return target;
  }

  public boolean isMapped(Output old) {
    return values.containsKey(old);
  }

  public boolean isMapped(Operation old) {
    return ops.containsKey(old);
  }

  /** The new value standing for a source value; fails if the pass has not built it yet. */
  public Output map(Output old) {
    Output o = values.get(old);
    if (o == null) {
      throw new IllegalStateException("rewriter: " + old + " has no counterpart yet");
    }
    return o;
  }

  public Operation map(Operation old) {
    Operation o = ops.get(old);
    if (o == null) {
      throw new IllegalStateException("rewriter: " + old + " has no counterpart yet");
    }
    return o;
  }

  /** Copies a source node with its inputs and control inputs mapped; same name, attrs, device. */
  public Operation copy(Operation old) {
    List<Output> inputs = new ArrayList<>();
    for (Output in : old.inputs()) {
      inputs.add(map(in));
    }
    return copy(old, inputs, old.device());
  }

  /**
   * Copies a source node onto {@code device} with the given new-graph inputs (in place of its mapped
   * ones: a placement pass routes some through copy nodes); same name and attrs. A fed node stays fed.
   */
  public Operation copy(Operation old, List<Output> inputs, String device) {
    OperationBuilder b = target.opBuilder(old.type(), old.name());
    inputs.forEach(b::addInput);
    for (Operation c : old.controlInputs()) {
      b.addControlInput(map(c));
    }
    b.setAttrs(old.attrs()).setDevice(device);
    old.subgraphs().forEach(b::addSubgraph);
    Operation op = b.build();
    ops.put(old, op);
    for (int i = 0; i < old.numOutputs(); i++) {
      values.put(old.output(i), op.output(i));
      if (source.fed().contains(old.output(i))) {
        fedValues.add(op.output(i));
      }
    }
    return op;
  }

  /**
   * Makes {@code old}'s outputs stand for {@code replacements} (one per output); control
   * dependencies on {@code old} become dependencies on {@code orderedAs}.
   */
  public void replace(Operation old, List<Output> replacements, Operation orderedAs) {
    if (replacements.size() != old.numOutputs()) {
      throw new IllegalArgumentException("rewriter: " + old + " has " + old.numOutputs() + " outputs, got "
          + replacements.size() + " replacements");
    }
    for (int i = 0; i < replacements.size(); i++) {
      Output r = replacements.get(i);
      if (source.fed().contains(old.output(i))) {
        throw new IllegalArgumentException("rewriter: fed value " + old.output(i) + " cannot be replaced");
      }
      if (r.graph() != target) {
        throw new IllegalArgumentException("rewriter: replacement " + r + " is not in the new graph");
      }
      if (!r.type().dtype().equals(old.output(i).dtype())) {
        throw new IllegalArgumentException("rewriter: replacement " + r + " changes the dtype of " + old.output(i));
      }
      values.put(old.output(i), r);
    }
    ops.put(old, orderedAs);
  }

  /** Replaces a one-output node by a value already in the new graph. */
  public void replace(Operation old, Output replacement) {
    replace(old, List.of(replacement), replacement.op());
  }

  /**
   * Starts a new node; its name is {@code hint} if neither graph has it (a replaced source node's
   * name may be reused), else {@code hint_1}, {@code hint_2}, ...
   */
  public OperationBuilder newNode(String type, String hint) {
    return target.opBuilder(type, freshName(hint));
  }

  /** A new node that takes over the name of the source node it replaces. */
  public OperationBuilder newNodeReplacing(String type, Operation old) {
    String name = target.findOperation(old.name()).isEmpty() ? old.name() : freshName(old.name());
    return target.opBuilder(type, name);
  }

  private String freshName(String hint) {
    String name = hint;
    for (int k = 1; sourceNames.contains(name) || target.findOperation(name).isPresent(); k++) {
      name = hint + "_" + k;
    }
    sourceNames.add(name);
    return name;
  }

  /** The program over the new graph: fetches, targets and feeds mapped (fed values must survive). */
  public Program finish() {
    List<Output> fetches = new ArrayList<>();
    for (Output f : source.fetches()) {
      fetches.add(map(f));
    }
    List<Operation> targets = new ArrayList<>();
    for (Operation t : source.targets()) {
      targets.add(map(t));
    }
    Set<Output> fed = new HashSet<>();
    for (Output f : source.fed()) {
      if (values.containsKey(f)) {
        fed.add(map(f));
      }
    }
    return new Program(target, fetches, targets, fed);
  }

  /**
   * Maps a source node whose values nothing reads any more (it was absorbed into {@code orderedAs},
   * e.g. a fused node's inner member) for control dependencies only: a control dependency on
   * {@code old} becomes one on {@code orderedAs}. Mapping one of its values later still fails.
   */
  public void orderAs(Operation old, Operation orderedAs) {
    if (orderedAs.graph() != target) {
      throw new IllegalArgumentException("rewriter: " + orderedAs + " is not in the new graph");
    }
    ops.put(old, orderedAs);
  }

  /** Whether a value of the new graph is the copy of a fed value (its run-time value is the feed). */
  public boolean isFed(Output value) {
    return fedValues.contains(value);
  }
}
