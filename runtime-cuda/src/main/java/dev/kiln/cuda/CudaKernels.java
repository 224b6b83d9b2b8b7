package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Subgraph;
import dev.kiln.optimizer.KernelRegistry;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The CUDA device's kernel registrations: every op type it runs, how ({@link Kind}), which of its
 * nodes (where the kernel takes only some dtypes or bodies) and whether it may be a node of a fused
 * body. Placement asks {@link #REGISTRY}; the code generator and the plan dispatch on the kind. A VIEW
 * op of any type aliases its input, so the device runs it with no kernel.
 */
final class CudaKernels {
  private CudaKernels() {}

  /** How the CUDA runtime runs an op type. */
  enum Kind {
    /** Device-resident state (variables, constants) and its assigns: no launched kernel of its own. */
    STATE,
    /** One C expression per element ({@link CudaCodegen#expression}): its own kernel, or a node of a fused body. */
    ELEMENTWISE,
    /** A reduction kernel over some axes; the fusible ones also end a fused body. */
    REDUCTION,
    /** A kernel of its own: softmax, products (cuBLAS where loaded), layout and random ops. */
    KERNEL
  }

  private record Registration(Kind kind, Predicate<Operation> accepts, boolean fuses) {}

  private static final Predicate<Operation> ANY = op -> true;
  private static final Predicate<Operation> FLOATING = op -> op.outputType(0).dtype().isFloating();

  private static final Map<String, Registration> TABLE = table();

  private static Map<String, Registration> table() {
    Map<String, Registration> m = new HashMap<>();
    for (String t : Set.of("Variable", "Const", "Assign", "AssignAdd", "AssignSub")) {
      m.put(t, new Registration(Kind.STATE, ANY, false));
    }
    // Every primitive is ELEMENTWISE too (generatedPrimitive); these pass their input on.
    for (String t : Set.of("Identity", "StopGradient", "Fill")) {
      m.put(t, new Registration(Kind.ELEMENTWISE, ANY, true));
    }
    for (String t : Set.of("Sum", "Mean", "Max", "Min")) {
      m.put(t, new Registration(Kind.REDUCTION, ANY, true));
    }
    for (String t : Set.of("Prod", "ReduceSumLike")) {
      m.put(t, new Registration(Kind.REDUCTION, ANY, false));
    }
    for (String t : Set.of("MatMul", "FusedMatMul", "Gemm", "Softmax", "LogSoftmax")) {
      m.put(t, new Registration(Kind.KERNEL, FLOATING, false));
    }
    for (String t : Set.of("ArgMax", "OneHot", "RandomNormal", "RandomUniform", "Transpose", "Slice", "Pad", "Concat")) {
      m.put(t, new Registration(Kind.KERNEL, ANY, false));
    }
    for (String t : CudaConvCodegen.TYPES) {
      m.put(t, new Registration(Kind.KERNEL, FLOATING, false));
    }
    for (String t : CudaNormCodegen.TYPES) {
      m.put(t, new Registration(Kind.KERNEL, FLOATING, false));
    }
    m.put("BatchMatMul", new Registration(Kind.KERNEL, FLOATING, false));
    for (String t : Set.of("Tile", "BroadcastTo", "Range", "Cumsum", "TopK")) {
      m.put(t, new Registration(Kind.KERNEL, ANY, false));
    }
    m.put("ArgMin", new Registration(Kind.KERNEL, CudaKernels::argMinOnDevice, false));
    m.put("Fused", new Registration(Kind.KERNEL, CudaKernels::runsBody, false));
    return Map.copyOf(m);
  }

  /**
   * ArgMin over an axis of known, non-zero length: the CPU fails a run on an empty axis with a
   * message, which a kernel cannot raise, so such nodes (or ones whose length is unknown) stay there.
   */
  private static boolean argMinOnDevice(Operation op) {
    var x = op.input(0);
    if (x.dtype() == DType.BOOL || !x.shape().hasKnownRank() || x.shape().rank() == 0) {
      return false;
    }
    int rank = x.shape().rank();
    long a = op.attrs().getLong("axis");
    int axis = (int) (a < 0 ? a + rank : a);
    return axis >= 0 && axis < rank && x.shape().dim(axis) > 0;
  }

  /**
   * A Fused node runs on the device when every body node fuses here and, if the body ends in
   * reductions, {@link CudaFusedReduction#supports} takes them.
   */
  private static boolean runsBody(Operation op) {
    Subgraph body = op.subgraphs().get(0);
    for (Operation b : body.graph().operations()) {
      if (!b.type().equals("Parameter") && !b.type().equals("Const") && !fuses(b.type())) {
        return false;
      }
    }
    return !CudaFusedReduction.hasReductions(body) || CudaFusedReduction.supports(op);
  }

  static boolean isElementwise(String type) {
    Registration r = TABLE.get(type);
    return (r != null && r.kind() == Kind.ELEMENTWISE) || generatedPrimitive(type);
  }

  /** An op type computing a {@code Primitive} the code generator writes C for (one C expression each). */
  private static boolean generatedPrimitive(String type) {
    return OpRegistry.find(type).flatMap(OpDef::primitive).filter(CudaCodegen.PRIMITIVES::contains).isPresent();
  }

  /** A composite elementwise node runs, fused or not, as its expansion: when every primitive of it does. */
  private static boolean runsComposite(Operation op) {
    return Elementwise.isComposite(op.type()) && runsBody(Elementwise.asFused(op));
  }

  static boolean isReduction(String type) {
    Registration r = TABLE.get(type);
    return r != null && r.kind() == Kind.REDUCTION;
  }

  /** Whether a node of {@code type} may be a node of a fused body the code generator compiles. */
  static boolean fuses(String type) {
    Registration r = TABLE.get(type);
    return (r != null && r.fuses()) || generatedPrimitive(type);
  }

  /** The CUDA device's registry, as placement and fusion ask it. */
  static final KernelRegistry REGISTRY = new KernelRegistry() {
    @Override
    public Set<String> opTypes() {
      Set<String> types = new TreeSet<>(TABLE.keySet());
      for (String t : OpRegistry.types()) {
        if (OpRegistry.get(t).traits().contains(OpTrait.VIEW) || Elementwise.isComposite(t) || generatedPrimitive(t)) {
          types.add(t);
        }
      }
      return Collections.unmodifiableSet(types);
    }

    @Override
    public boolean hasKernel(Operation op) {
      if (narrow(op)) {
        return false;
      }
      if (op.def().traits().contains(OpTrait.VIEW)) {
        return true;
      }
      Registration r = TABLE.get(op.type());
      return (r != null && r.accepts().test(op)) || generatedPrimitive(op.type()) || runsComposite(op);
    }

    @Override
    public boolean canFuse(Operation op) {
      return !narrow(op) && (fuses(op.type()) || runsComposite(op));
    }

    /** The device keeps no narrow dtype (f16, bf16, i8, u8, i16): such nodes run on the host. */
    private boolean narrow(Operation op) {
      return op.inputs().stream().anyMatch(o -> o.dtype().isNarrow())
          || op.outputs().stream().anyMatch(o -> o.dtype().isNarrow());
    }

    @Override
    public String toString() {
      return "CUDA kernels";
    }
  };
}
