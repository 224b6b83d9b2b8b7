package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The kernel of a Fused node whose body ends in reductions (the optimizer's fused float
 * Sum/Mean/Max/Min over trailing axes). Every reduction reduces the same trailing R elements of the
 * body's whole iteration space (n elements), so the space is rows = n / R rows of R contiguous
 * elements: one block per row (grid-stride over rows) evaluates the body for its row's elements,
 * stores the elementwise results, and folds each reduction's input into a per-thread accumulator;
 * a shared-memory tree per reduction then gives the row's value. Other bodies with reductions have
 * no kernel (placement runs them on the host).
 */
final class CudaFusedReduction {
  /** At most this many reductions per body: each takes a block-sized shared array. */
  static final int MAX_REDUCTIONS = 16;

  private CudaFusedReduction() {}

  /** How a body's reductions map onto rows; {@code problem} is empty when they fit this kernel. */
  private record Plan(String problem, Shape space, long rows, long reduced) {
    static Plan rejected(Operation fused, Operation r, String why) {
      return new Plan("Fused '" + fused.name() + "': body node " + r.type() + " '" + r.name() + "' " + why
          + " (placement runs such a node on the host)", Shape.unknown(), 0, 0);
    }
  }

  static boolean hasReductions(Subgraph body) {
    return body.graph().operations().stream().anyMatch(b -> CudaKernels.isReduction(b.type()));
  }

  /**
   * Whether {@link #generate} succeeds for every concrete shape the node's (static) input types
   * allow: an unknown dimension counts as one that is not 1.
   */
  static boolean supports(Operation op) {
    return plan(op, op.inputs().stream().map(Output::shape).toList()).problem().isEmpty();
  }

  /**
   * The checks, on static or concrete input shapes: every reduction is a float Sum/Mean/Max/Min of a
   * value spanning the whole space (it depends on every input, or has the space's known shape), over
   * trailing axes (dims of 1 aside), and all reduce the same axes.
   */
  private static Plan plan(Operation op, List<Shape> inputs) {
    Subgraph body = op.subgraphs().get(0);
    Map<Output, Shape> shapes = new HashMap<>();
    Map<Output, BitSet> deps = new HashMap<>();
    Shape space = Shape.scalar();
    for (int i = 0; i < inputs.size(); i++) {
      Output p = body.parameters().get(i);
      shapes.put(p, inputs.get(i));
      BitSet d = new BitSet();
      d.set(i);
      deps.put(p, d);
      space = Shape.broadcast(space, inputs.get(i));
    }
    BitSet all = new BitSet();
    all.set(0, inputs.size());
    List<Integer> axes = null; // the reduced axes (dims of 1 left out) every reduction must share
    Operation first = null;
    int count = 0;
    for (Operation b : body.graph().operations()) {
      if (b.type().equals("Parameter")) {
        continue;
      }
      if (CudaKernels.isReduction(b.type())) {
        Output x = b.input(0);
        if (!CudaKernels.fuses(b.type()) || !x.dtype().isFloating()) {
          return Plan.rejected(op, b, "is not a float Sum, Mean, Max or Min: no CUDA kernel reduces it in a fused body");
        }
        if (++count > MAX_REDUCTIONS) {
          return Plan.rejected(op, b, "is reduction number " + count + ": a fused CUDA kernel takes at most " + MAX_REDUCTIONS);
        }
        Shape s = shapes.get(x);
        if (space == null || !space.hasKnownRank()
            || !(deps.get(x).equals(all) || (s.equals(space) && s.isFullyDefined()))) {
          return Plan.rejected(op, b, "reduces a value of shape " + s + ", not the whole iteration space " + space);
        }
        List<Integer> mine = trailing(space, CudaCodegen.axes(b.attrs(), space.rank()));
        if (mine == null) {
          return Plan.rejected(op, b, "reduces axes " + CudaCodegen.axes(b.attrs(), space.rank()) + " of " + space
              + ", not trailing ones: the CUDA code generator fuses reductions over trailing axes only");
        }
        if (axes == null) {
          axes = mine;
          first = b;
        } else if (!axes.equals(mine)) {
          return Plan.rejected(op, b, "reduces axes " + mine + " of " + space + " where " + first.type() + " '" + first.name()
              + "' reduces axes " + axes + ": one fused CUDA kernel reduces the same trailing axes for all");
        }
        continue;
      }
      Shape s = Shape.scalar();
      BitSet d = new BitSet();
      for (Output in : b.inputs()) {
        s = s == null ? null : Shape.broadcast(s, shapes.get(in));
        d.or(deps.get(in));
      }
      shapes.put(b.output(0), s);
      deps.put(b.output(0), d);
    }
    if (!space.isFullyDefined()) {
      return new Plan("", space, 0, 0);
    }
    long reduced = 1;
    long rows = 1;
    for (int d = 0; d < space.rank(); d++) {
      if (axes.contains(d)) {
        reduced *= space.dim(d);
      } else {
        rows *= space.dim(d);
      }
    }
    return new Plan("", space, rows, reduced);
  }

  /**
   * The reduced axes of {@code space} without its dims of 1, or null when a kept dim that is not
   * known to be 1 follows a reduced one (then rows of contiguous elements do not exist).
   */
  private static List<Integer> trailing(Shape space, List<Integer> axes) {
    Set<Integer> reduced = new TreeSet<>();
    boolean seenReduced = false;
    for (int d = 0; d < space.rank(); d++) {
      if (space.dim(d) == 1) {
        continue;
      }
      if (axes.contains(d)) {
        reduced.add(d);
        seenReduced = true;
      } else if (seenReduced) {
        return null;
      }
    }
    return List.copyOf(reduced);
  }

  /** The kernel for concrete types; throws naming the node when the body does not fit it. */
  static CudaCodegen.KernelSource generate(Operation op, List<TensorType> in, List<TensorType> out) {
    Plan plan = plan(op, in.stream().map(TensorType::shape).toList());
    if (!plan.problem().isEmpty()) {
      throw new IllegalArgumentException(plan.problem());
    }
    Subgraph body = op.subgraphs().get(0);
    Shape space = plan.space();
    long n = space.numElements();
    long rowLength = plan.reduced();
    Map<Output, String> names = new HashMap<>();
    String statements = CudaCodegen.statements(body, names);

    List<Integer> reductions = new ArrayList<>(); // result indices that are reductions
    boolean needCoords = false;
    for (TensorType t : in) {
      needCoords |= !CudaCodegen.sameOrScalar(t.shape(), space);
    }
    for (int j = 0; j < out.size(); j++) {
      if (CudaKernels.isReduction(body.results().get(j).op().type())) {
        reductions.add(j);
      } else {
        needCoords |= !out.get(j).shape().equals(space);
      }
    }
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(CudaCodegen.ENTRY).append("(");
    List<String> params = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      params.add("const " + CudaTypes.c(in.get(i).dtype()) + "* __restrict__ in" + i);
    }
    for (int j = 0; j < out.size(); j++) {
      params.add(CudaTypes.c(out.get(j).dtype()) + "* __restrict__ out" + j);
    }
    sb.append(String.join(", ", params)).append(") {\n");
    for (int j : reductions) {
      sb.append("  __shared__ ").append(accType(body, j)).append(" sh").append(j).append('[').append(Launch.BLOCK).append("];\n");
    }
    sb.append("  for (long long row = blockIdx.x; row < ").append(plan.rows()).append("LL; row += gridDim.x) {\n");
    sb.append("    const long long base = row * ").append(rowLength).append("LL;\n");
    for (int j : reductions) {
      Operation r = body.results().get(j).op();
      String init = switch (r.type()) {
        case "Max" -> "-INFINITY";
        case "Min" -> "INFINITY";
        default -> "0.0";
      };
      sb.append("    ").append(accType(body, j)).append(" acc").append(j).append(" = ").append(init).append(";\n");
    }
    // Per element i: the body, its elementwise results stored, its reductions' inputs folded in.
    StringBuilder element = new StringBuilder(statements);
    for (int j = 0; j < out.size(); j++) {
      Output res = body.results().get(j);
      if (reductions.contains(j)) {
        String x = names.get(res.op().input(0));
        element.append("    acc").append(j).append(switch (res.op().type()) {
          case "Max" -> " = k_max(acc" + j + ", " + x + ");\n";
          case "Min" -> " = k_min(acc" + j + ", " + x + ");\n";
          default -> " += (double)" + x + ";\n";
        });
      } else {
        Shape s = out.get(j).shape();
        String store = "out" + j + "[" + CudaCodegen.offset(s, space) + "] = " + names.get(res) + ";";
        String guard = CudaCodegen.ownerGuard(s, space);
        element.append("    ").append(guard.isEmpty() ? store : "if (" + guard + ") { " + store + " }").append('\n');
      }
    }
    if (needCoords) {
      sb.append("    for (long long r = threadIdx.x; r < ").append(rowLength).append("LL; r += blockDim.x) {\n");
      sb.append("    const long long i = base + r;\n    long long rest = i;\n");
      int[] dims = space.dims();
      for (int d = dims.length - 1; d >= 0; d--) {
        sb.append("    const long long c").append(d).append(" = rest % ").append(dims[d]).append("LL; rest /= ")
            .append(dims[d]).append("LL;\n");
      }
      for (int i = 0; i < in.size(); i++) {
        sb.append("    const ").append(CudaTypes.c(in.get(i).dtype())).append(" v").append(i).append(" = in").append(i)
            .append('[').append(CudaCodegen.offset(in.get(i).shape(), space)).append("];\n");
      }
      sb.append(element).append("    }\n");
    } else {
      contiguous(sb, in, rowLength, element.toString());
    }
    for (int j : reductions) {
      String combine = switch (body.results().get(j).op().type()) {
        case "Max" -> "k_max(sh" + j + "[threadIdx.x], sh" + j + "[threadIdx.x + s])";
        case "Min" -> "k_min(sh" + j + "[threadIdx.x], sh" + j + "[threadIdx.x + s])";
        default -> "sh" + j + "[threadIdx.x] + sh" + j + "[threadIdx.x + s]";
      };
      sb.append(CudaCodegen.blockTree("sh" + j, "acc" + j, combine));
    }
    sb.append("    if (threadIdx.x == 0) {\n");
    for (int j : reductions) {
      String result = body.results().get(j).op().type().equals("Mean") ? "sh" + j + "[0] / (double)" + rowLength : "sh" + j + "[0]";
      sb.append("      out").append(j).append("[row] = (").append(CudaTypes.c(out.get(j).dtype())).append(")(").append(result)
          .append(");\n");
    }
    sb.append("    }\n    __syncthreads();\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(plan.rows(), true, false));
  }

  /**
   * The row loop when every input has the space's shape or is a scalar and every elementwise result
   * has the space's shape: contiguous, {@link CudaCodegen#UNROLL} loads in flight per thread, each
   * element read before it is written (as the flat elementwise loop).
   */
  private static void contiguous(StringBuilder sb, List<TensorType> in, long rowLength, String element) {
    int unroll = CudaCodegen.UNROLL;
    sb.append("    for (long long r0 = threadIdx.x; r0 < ").append(rowLength).append("LL; r0 += ").append(unroll)
        .append("LL * blockDim.x) {\n");
    List<Integer> loaded = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      if (in.get(i).shape().numElements() != 1) {
        loaded.add(i);
        sb.append("      ").append(CudaTypes.c(in.get(i).dtype())).append(" a").append(i).append('[').append(unroll).append("];\n");
      }
    }
    if (!loaded.isEmpty()) {
      sb.append("#pragma unroll\n      for (int u = 0; u < ").append(unroll).append("; u++) {\n")
          .append("        const long long r = r0 + (long long)u * blockDim.x;\n        if (r < ").append(rowLength).append("LL) {");
      for (int i : loaded) {
        sb.append(" a").append(i).append("[u] = in").append(i).append("[base + r];");
      }
      sb.append(" }\n      }\n");
    }
    sb.append("#pragma unroll\n      for (int u = 0; u < ").append(unroll).append("; u++) {\n")
        .append("      const long long r = r0 + (long long)u * blockDim.x;\n      if (r >= ").append(rowLength)
        .append("LL) { break; }\n      const long long i = base + r;\n");
    for (int i = 0; i < in.size(); i++) {
      sb.append("    const ").append(CudaTypes.c(in.get(i).dtype())).append(" v").append(i).append(" = ")
          .append(loaded.contains(i) ? "a" + i + "[u]" : "in" + i + "[0]").append(";\n");
    }
    sb.append(element).append("      }\n    }\n");
  }

  /** Float sums accumulate in double; Max/Min in the value's own type (NaN-propagating k_max/k_min). */
  private static String accType(Subgraph body, int result) {
    Operation r = body.results().get(result).op();
    DType d = r.input(0).dtype();
    return r.type().equals("Max") || r.type().equals("Min") ? CudaTypes.c(d) : "double";
  }
}
