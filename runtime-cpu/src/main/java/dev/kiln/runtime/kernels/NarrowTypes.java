package dev.kiln.runtime.kernels;

import dev.kiln.graph.Attrs;
import dev.kiln.graph.ControlFlowOp;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Narrowing;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How the CPU runs an op on the narrow dtypes (f16, bf16, i8, u8, i16), whose values the frame holds
 * in the arrays of their {@link DType#computeType()}: a kernel that takes them as they are is listed in
 * {@link #isNative}; every other kernel is built for a copy of the node whose narrow inputs, outputs and
 * dtype attributes are the compute types, so it reads the values in place, and its narrow outputs are
 * rounded (floats, ties to even) or wrapped (integers) after it ran. Integer add, sub, mul and neg
 * wrapped on store equal the narrow type's own two's complement results; float16 and bfloat16
 * arithmetic is float32 arithmetic rounded once on store.
 */
public final class NarrowTypes {
  private NarrowTypes() {}

  /**
   * Whether {@code op}'s kernel takes narrow dtypes directly: Cast converts between every pair of
   * dtypes, and control flow moves its values between its bodies' plans without computing on them.
   */
  static boolean isNative(Operation op) {
    return Elementwise.is(op, Primitive.CAST) || op.def() instanceof ControlFlowOp;
  }

  /** Whether {@code op} reads or produces a narrow dtype. */
  public static boolean involves(Operation op) {
    for (int i = 0; i < op.numInputs(); i++) {
      if (op.input(i).dtype().isNarrow()) {
        return true;
      }
    }
    for (int j = 0; j < op.numOutputs(); j++) {
      if (op.output(j).dtype().isNarrow()) {
        return true;
      }
    }
    return false;
  }

  /** The kernel for {@code spec}, through the compute types when the node involves narrow dtypes. */
  static Kernel create(KernelSpec spec, KernelFactory factory) {
    if (isNative(spec.op()) || !(any(spec.inputs()) || any(spec.outputs()))) {
      return factory.create(spec);
    }
    Operation wide = widen(spec);
    List<TensorType> outs = new ArrayList<>();
    for (int j = 0; j < spec.outputs().size(); j++) {
      TensorType t = spec.outputs().get(j);
      DType want = wide.output(j).dtype();
      if (want != t.dtype().computeType()) {
        throw new IllegalArgumentException(spec.op().type() + " node '" + spec.op().name() + "': output " + j + " is "
            + t.dtype().shortName() + " but computed as " + want.shortName() + ": no CPU kernel computes it");
      }
      outs.add(new TensorType(want, t.shape()));
    }
    Kernel k = factory.create(new KernelSpec(wide, computeTypes(spec.inputs()), outs, spec.inputSlots(),
        spec.outputSlots(), spec.fused()));
    List<int[]> narrowed = new ArrayList<>(); // {slot, dtype ordinal, count}
    for (int j = 0; j < spec.outputs().size(); j++) {
      TensorType t = spec.outputs().get(j);
      if (t.dtype().isNarrow() && spec.outputSlots()[j] >= 0) {
        narrowed.add(new int[] {spec.outputSlots()[j], t.dtype().ordinal(), t.shape().elementCount()});
      }
    }
    if (narrowed.isEmpty()) {
      return k;
    }
    int[][] store = narrowed.toArray(int[][]::new);
    DType[] dtypes = DType.values();
    return frame -> {
      k.run(frame);
      for (int[] s : store) {
        Narrowing.narrowInPlace(dtypes[s[1]], frame[s[0]], 0, s[2]);
      }
    };
  }

  private static boolean any(List<TensorType> types) {
    return types.stream().anyMatch(t -> t.dtype().isNarrow());
  }

  private static List<TensorType> computeTypes(List<TensorType> types) {
    return types.stream().map(t -> new TensorType(t.dtype().computeType(), t.shape())).toList();
  }

  /**
   * A copy of the spec's node, alone in a graph of its own, over placeholders of the compute types
   * and with its dtype attributes widened: what the kernel is built for.
   */
  private static Operation widen(KernelSpec spec) {
    Operation op = spec.op();
    Graph g = new Graph();
    OperationBuilder b = g.opBuilder(op.type(), op.name());
    for (int i = 0; i < op.numInputs(); i++) {
      TensorType t = i < spec.inputs().size() ? spec.inputs().get(i) : op.input(i).type();
      b.addInput(g.opBuilder("Placeholder", "in" + i).setAttr("dtype", t.dtype().computeType())
          .setAttr("shape", t.shape()).build().output(0));
    }
    Attrs.Builder attrs = Attrs.builder();
    for (Map.Entry<String, Object> e : op.attrs().asMap().entrySet()) {
      attrs.set(e.getKey(), e.getValue() instanceof DType d ? d.computeType() : e.getValue());
    }
    b.setAttrs(attrs.build());
    if (!op.subgraphs().isEmpty()) {
      // A body computes in its own nodes' dtypes, which widening the node's inputs would not change.
      throw new IllegalArgumentException(op.type() + " node '" + op.name() + "' on " + dtypes(spec)
          + ": a node with a body cannot compute on narrow dtypes; cast its inputs to "
          + "f32 or i32 first");
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(op.type() + " node '" + op.name() + "' on " + dtypes(spec)
          + ": no CPU kernel takes these dtypes, nor their compute types (" + e.getMessage() + ")", e);
    }
  }

  private static String dtypes(KernelSpec spec) {
    return String.join(", ", spec.inputs().stream().map(t -> t.dtype().shortName()).toList());
  }

  /** The error of a kernel that met a narrow dtype it was meant to see only as its compute type. */
  public static IllegalArgumentException notLowered(DType d) {
    return new IllegalArgumentException("kernel given " + d.shortName() + " values: narrow dtypes run as "
        + d.computeType().shortName() + " (NarrowTypes)");
  }
}
