package dev.kiln.graph;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;

/**
 * The machinery of {@link Ops#customGradient}. Each forward output is passed through a
 * {@code CustomGradient} marker node: a view of the output (input 0) that also takes the custom
 * inputs (inputs 1..n). Its gradient skips the forward nodes (input 0 gets none) and calls the stored
 * backward function for the inputs. The backward functions are kept by the graph, not globally.
 */
final class CustomGradients {
  static final String OP_TYPE = "CustomGradient";

  private CustomGradients() {}

  /** What one customGradient call stored in its graph. */
  record Entry(List<Output> inputs, List<Output> outputs, CustomBackward backward) {}

  /** The marker op type: a view of input 0 that also takes the custom inputs. */
  private record MarkerDef() implements OpDef {
    @Override
    public String type() {
      return OP_TYPE;
    }

    @Override
    public int minInputs() {
      return 1;
    }

    @Override
    public int maxInputs() {
      return Integer.MAX_VALUE;
    }

    @Override
    public AttrSchema attrSchema() {
      return AttrSchema.of(AttrDef.required("output_index", AttrType.INT), AttrDef.required("key", AttrType.STRING));
    }

    @Override
    public List<TensorType> infer(OpContext c) {
      Infer.attrLong(c, "output_index");
      Infer.attr(c, "key", String.class);
      return List.of(c.input(0));
    }

    @Override
    public java.util.Set<OpTrait> traits() {
      return EnumSet.of(OpTrait.VIEW);
    }
  }

  static void register() {
    OpRegistry.register(new MarkerDef());
  }

  static void registerGradient() {
    OpRegistry.registerGradient(OP_TYPE, CustomGradients::gradient);
  }

  static List<Output> build(Ops tf, List<Output> inputs, java.util.function.Function<List<Output>, List<Output>> forward,
      CustomBackward backward) {
    Graph graph = tf.graph();
    List<Output> ins = List.copyOf(inputs);
    return graph.atomically(() -> {
      List<Output> outs = List.copyOf(forward.apply(ins));
      if (outs.isEmpty()) {
        throw new IllegalArgumentException("customGradient: the forward function returned no outputs");
      }
      String key = graph.nextCustomGradientKey();
      List<Output> marked = new ArrayList<>(outs.size());
      for (int j = 0; j < outs.size(); j++) {
        marked.add(tf.withSubScope("custom_gradient").opBuilder(OP_TYPE).addInput(outs.get(j)).addInputs(ins).setAttr("key", key)
            .setAttr("output_index", j).build().output(0));
      }
      graph.putCustomGradient(key, new Entry(ins, outs, backward));
      return List.copyOf(marked);
    });
  }

  /**
   * Node j of a call receives only output j's gradient; backward is called with zeros for the
   * others, and the gradient pass sums the per-node results (backward is linear in its gradients).
   */
  private static List<Optional<Output>> gradient(Ops tf, Operation op, List<Optional<Output>> grads) {
    List<Optional<Output>> result = new ArrayList<>(op.numInputs());
    result.add(Optional.empty());
    if (grads.get(0).isEmpty()) {
      for (int i = 1; i < op.numInputs(); i++) {
        result.add(Optional.empty());
      }
      return result;
    }
    String key = op.attrs().getString("key");
    Entry e = op.graph().customGradient(key).orElseThrow(() -> new IllegalArgumentException(
        "gradients: " + op + " has no backward function in this graph (custom gradients are not saved with a graph)"));
    int j = op.attrs().getInt("output_index");
    List<Output> outGrads = new ArrayList<>(e.outputs().size());
    for (int m = 0; m < e.outputs().size(); m++) {
      outGrads.add(m == j ? grads.get(0).get() : tf.zerosLike(e.outputs().get(m)));
    }
    List<Output> inGrads = e.backward().apply(tf, e.inputs(), e.outputs(), List.copyOf(outGrads));
    if (inGrads.size() != e.inputs().size()) {
      throw new IllegalArgumentException("customGradient: the backward function of " + op + " returned "
          + inGrads.size() + " gradients for " + e.inputs().size() + " inputs");
    }
    for (Output g : inGrads) {
      result.add(Optional.of(java.util.Objects.requireNonNull(g,
          () -> "customGradient: the backward function of " + op + " returned a null gradient")));
    }
    return result;
  }
}
