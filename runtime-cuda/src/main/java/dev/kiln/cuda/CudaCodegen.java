package dev.kiln.cuda;

import dev.kiln.graph.Attrs;
import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CUDA C for one graph node with concrete types: every shape is baked into the source (a plan is
 * compiled for one set of shapes, and the source's hash keys the PTX cache). Kernel parameters are
 * the input pointers, then the output pointers, then (random ops) the first counter of this run.
 * Entry point: {@value #ENTRY}.
 */
final class CudaCodegen {
  static final String ENTRY = "kiln_kernel";

  /** Generated source and how to launch it. */
  record KernelSource(String source, Launch launch) {}

  private CudaCodegen() {}

  static KernelSource generate(Operation op, List<TensorType> in, List<TensorType> out) {
    String t = op.type();
    if (t.equals("Fused")) {
      Subgraph body = op.subgraphs().get(0);
      return CudaFusedReduction.hasReductions(body) ? CudaFusedReduction.generate(op, in, out) : fused(body, in, out);
    }
    if (Elementwise.isComposite(t)) {
      return fused(Elementwise.asFused(op).subgraphs().get(0), in, out);
    }
    if (CudaKernels.isElementwise(t)) {
      return elementwise(op, in, out.get(0));
    }
    if (CudaConvCodegen.TYPES.contains(t)) {
      return CudaConvCodegen.generate(op, in, out);
    }
    if (CudaNormCodegen.TYPES.contains(t)) {
      return CudaNormCodegen.generate(op, in, out);
    }
    if (CudaArrayCodegen.TYPES.contains(t)) {
      return CudaArrayCodegen.generate(op, in, out);
    }
    return switch (t) {
      case "Sum", "Mean", "Max", "Min", "Prod" -> reduce(t, in.get(0), axes(op.attrs(), in.get(0).shape().rank()), out.get(0), false);
      case "ReduceSumLike" -> reduce("Sum", in.get(0), sumLikeAxes(in.get(0).shape(), in.get(1).shape()), out.get(0), true);
      case "Softmax", "LogSoftmax" -> softmax(t.equals("LogSoftmax"), in.get(0), axis(op.attrs(), "axis", -1, in.get(0).shape().rank()));
      case "ArgMax" -> argMax(in.get(0), axis(op.attrs(), "axis", -1, in.get(0).shape().rank()), out.get(0));
      case "OneHot" -> oneHot(op.attrs(), in.get(0), out.get(0));
      case "RandomNormal", "RandomUniform" -> random(t.equals("RandomNormal"), op.attrs().getLong("seed"), out.get(0));
      case "MatMul" -> gemm(in, out.get(0), op.attrs(), false, "none");
      case "FusedMatMul" -> gemm(in, out.get(0), op.attrs(), in.size() == 3, op.attrs().find("activation").map(Object::toString).orElse("none"));
      case "Gemm" -> gemmAccumulate(in, out.get(0), op.attrs());
      case "Transpose" -> transpose(op.attrs(), in.get(0), out.get(0));
      case "Slice" -> slice(op.attrs().getLongs("begin"), in.get(0), out.get(0));
      case "Pad" -> pad(op.attrs().getLongs("paddings"), in.get(0), out.get(0));
      case "Concat" -> concat(axis(op.attrs(), "axis", 0, out.get(0).shape().rank()), in, out.get(0));
      default -> throw new IllegalArgumentException(t + " '" + op.name() + "': no CUDA kernel for op type '" + t + "'");
    };
  }

  // ------------------------------------------------------------------ elementwise and fused

  /** One elementwise op: a fused body of one node. */
  private static KernelSource elementwise(Operation op, List<TensorType> in, TensorType out) {
    List<String> args = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      args.add("v" + i);
    }
    String e = expression(op, in.isEmpty() ? out.dtype() : in.get(0).dtype(), out.dtype(), args);
    StringBuilder body = new StringBuilder("    const ").append(CudaTypes.c(out.dtype())).append(" r0 = ").append(e).append(";\n");
    return loop(in, List.of(out), body.toString(), List.of("r0"));
  }

  /** A Fused node's body as one kernel: one thread per element of the broadcast of its inputs. */
  static KernelSource fused(Subgraph body, List<TensorType> in, List<TensorType> out) {
    Map<Output, String> names = new HashMap<>();
    String statements = statements(body, names);
    List<String> results = body.results().stream().map(names::get).toList();
    return loop(in, out, statements, results);
  }

  /**
   * The body's elementwise nodes as C statements {@code const T tK = ...;} in body order (parameters
   * are {@code v0..}, reductions are skipped); {@code names} receives each value's C name.
   */
  static String statements(Subgraph body, Map<Output, String> names) {
    for (int i = 0; i < body.parameters().size(); i++) {
      names.put(body.parameters().get(i), "v" + i);
    }
    StringBuilder sb = new StringBuilder();
    int k = 0;
    for (Operation b : body.graph().operations()) {
      if (b.type().equals("Parameter") || CudaKernels.isReduction(b.type())) {
        continue;
      }
      DType od = b.outputType(0).dtype();
      String e;
      if (b.type().equals("Const")) {
        Tensor v = b.attrs().getTensor("value");
        e = CudaTypes.literal(od, scalar(v));
      } else {
        List<String> args = b.inputs().stream().map(names::get).toList();
        List<DType> ads = b.inputs().stream().map(Output::dtype).toList();
        e = expression(b, ads.isEmpty() ? od : ads.get(0), od, args);
      }
      String n = "t" + k++;
      sb.append("    const ").append(CudaTypes.c(od)).append(' ').append(n).append(" = ").append(e).append(";\n");
      names.put(b.output(0), n);
    }
    return sb.toString();
  }

  private static Object scalar(Tensor t) {
    Object a = HostBuffers.array(t);
    return switch (a) {
      case float[] f -> f[0];
      case double[] d -> d[0];
      case int[] i -> i[0];
      case long[] l -> l[0];
      case boolean[] b -> b[0];
      default -> throw new IllegalStateException();
    };
  }

  /**
   * The grid-stride loop over the broadcast shape of all inputs and outputs: loads each input through
   * its broadcast strides, runs {@code body}, stores each result (an output smaller than the loop
   * shape is stored once, by the threads at coordinate 0 of its broadcast dimensions).
   */
  private static KernelSource loop(List<TensorType> in, List<TensorType> out, String body, List<String> results) {
    Shape space = Shape.scalar();
    for (TensorType t : in) {
      space = Shape.broadcast(space, t.shape());
    }
    for (TensorType t : out) {
      space = Shape.broadcast(space, t.shape());
    }
    int[] dims = space.dims();
    long n = space.numElements();
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(");
    List<String> params = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      params.add("const " + CudaTypes.c(in.get(i).dtype()) + "* __restrict__ in" + i);
    }
    for (int i = 0; i < out.size(); i++) {
      params.add(CudaTypes.c(out.get(i).dtype()) + "* __restrict__ out" + i);
    }
    sb.append(String.join(", ", params)).append(") {\n");
    boolean needCoords = false;
    for (TensorType t : in) {
      needCoords |= !sameOrScalar(t.shape(), space);
    }
    for (TensorType t : out) {
      needCoords |= !t.shape().equals(space);
    }
    if (!needCoords) {
      return flat(sb, in, out, n, body, results);
    }
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(n)
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n");
    if (needCoords) {
      sb.append("    long long rest = i;\n");
      for (int d = dims.length - 1; d >= 0; d--) {
        sb.append("    const long long c").append(d).append(" = rest % ").append(dims[d]).append("LL; rest /= ")
            .append(dims[d]).append("LL;\n");
      }
    }
    for (int i = 0; i < in.size(); i++) {
      sb.append("    const ").append(CudaTypes.c(in.get(i).dtype())).append(" v").append(i).append(" = in").append(i)
          .append('[').append(offset(in.get(i).shape(), space)).append("];\n");
    }
    sb.append(body);
    for (int i = 0; i < out.size(); i++) {
      Shape s = out.get(i).shape();
      String store = "out" + i + "[" + offset(s, space) + "] = " + results.get(i) + ";";
      String guard = ownerGuard(s, space);
      sb.append("    ").append(guard.isEmpty() ? store : "if (" + guard + ") { " + store + " }").append('\n');
    }
    sb.append("  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** Elements per thread per pass of a flat kernel: independent loads in flight hide memory latency. */
  static final int UNROLL = 4;

  /**
   * The loop when every operand has the loop's shape or is a scalar (no coordinates): each thread
   * takes {@link #UNROLL} elements a block-width apart per pass (coalesced), loads them all, then
   * computes and stores them. A thread reads element i before writing element i, so an output may
   * alias a same-shaped input (the in-place variable update).
   */
  private static KernelSource flat(StringBuilder sb, List<TensorType> in, List<TensorType> out, long n, String body,
      List<String> results) {
    sb.append("  const long long step = (long long)gridDim.x * blockDim.x * ").append(UNROLL).append(";\n");
    sb.append("  for (long long base = (long long)blockIdx.x * blockDim.x * ").append(UNROLL)
        .append(" + threadIdx.x; base < ").append(n).append("LL; base += step) {\n");
    List<Integer> loaded = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      if (in.get(i).shape().numElements() != 1 || n == 1) {
        loaded.add(i);
        sb.append("    ").append(CudaTypes.c(in.get(i).dtype())).append(" a").append(i).append('[').append(UNROLL).append("];\n");
      }
    }
    if (!loaded.isEmpty()) {
      sb.append("#pragma unroll\n    for (int u = 0; u < ").append(UNROLL).append("; u++) {\n")
          .append("      const long long i = base + (long long)u * blockDim.x;\n      if (i < ").append(n).append("LL) {");
      for (int i : loaded) {
        sb.append(" a").append(i).append("[u] = in").append(i).append("[i];");
      }
      sb.append(" }\n    }\n");
    }
    sb.append("#pragma unroll\n    for (int u = 0; u < ").append(UNROLL).append("; u++) {\n")
        .append("      const long long i = base + (long long)u * blockDim.x;\n      if (i >= ").append(n).append("LL) { break; }\n");
    for (int i = 0; i < in.size(); i++) {
      sb.append("    const ").append(CudaTypes.c(in.get(i).dtype())).append(" v").append(i).append(" = ")
          .append(loaded.contains(i) ? "a" + i + "[u]" : "in" + i + "[0]").append(";\n");
    }
    sb.append(body);
    for (int i = 0; i < out.size(); i++) {
      sb.append("    out").append(i).append("[i] = ").append(results.get(i)).append(";\n");
    }
    sb.append("    }\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch((n + UNROLL - 1) / UNROLL, false, false));
  }

  static boolean sameOrScalar(Shape s, Shape space) {
    return s.equals(space) || s.numElements() == 1;
  }

  /** The element offset of a broadcast operand of shape {@code s} at the loop's coordinates. */
  static String offset(Shape s, Shape space) {
    if (s.equals(space)) {
      return "i";
    }
    if (s.numElements() == 1) {
      return "0";
    }
    int shift = space.rank() - s.rank();
    StringBuilder o = new StringBuilder();
    long stride = 1;
    for (int d = s.rank() - 1; d >= 0; d--) {
      if (s.dim(d) != 1) {
        o.append(o.length() == 0 ? "" : " + ").append('c').append(d + shift).append(stride == 1 ? "" : " * " + stride + "LL");
      }
      stride *= s.dim(d);
    }
    return o.length() == 0 ? "0" : o.toString();
  }

  /** Coordinates that must be 0 for this thread to store an output broadcast over the loop shape. */
  static String ownerGuard(Shape s, Shape space) {
    if (s.equals(space)) {
      return "";
    }
    int shift = space.rank() - s.rank();
    List<String> conds = new ArrayList<>();
    for (int d = 0; d < space.rank(); d++) {
      boolean broadcast = d < shift || (s.dim(d - shift) == 1 && space.dim(d) != 1);
      if (broadcast) {
        conds.add("c" + d + " == 0");
      }
    }
    return String.join(" && ", conds);
  }

  /**
   * The C expression of elementwise node {@code op} on operand expressions {@code a}: its primitive's
   * ({@link #primitive}), or, for an elementwise view (Identity, StopGradient) and Fill, its input.
   */
  static String expression(Operation op, DType in, DType out, List<String> a) {
    if (op.def().traits().contains(OpTrait.VIEW) || op.type().equals("Fill")) {
      return a.get(0);
    }
    Primitive p = Elementwise.primitive(op).orElseThrow(
        () -> new IllegalArgumentException("no CUDA expression for op type '" + op.type() + "'"));
    return primitive(p, in, out, a);
  }

  /** The primitives {@link #primitive} writes C for: every one. */
  static final java.util.Set<Primitive> PRIMITIVES = java.util.EnumSet.allOf(Primitive.class);

  /**
   * The C expression of primitive {@code p} on operands {@code a} of dtype {@code in}, giving
   * {@code out} (rint rounds halves to even).
   */
  static String primitive(Primitive p, DType in, DType out, List<String> a) {
    String t = CudaTypes.c(out);
    String x = a.isEmpty() ? "" : a.get(0);
    String y = a.size() > 1 ? a.get(1) : "";
    boolean fl = in.isFloating();
    return switch (p) {
      case NEG -> "(" + t + ")(-" + x + ")";
      case SQUARE -> "(" + t + ")(" + x + " * " + x + ")";
      case ABS -> "k_abs(" + x + ")";
      case SIGN -> "k_sign(" + x + ")";
      case RELU -> "k_relu(" + x + ")";
      case ZEROS_LIKE -> CudaTypes.literal(out, 0);
      case ONES_LIKE -> CudaTypes.literal(out, 1);
      case SQRT -> "sqrt(" + x + ")";
      case RSQRT -> "k_rsqrt(" + x + ")";
      case RECIPROCAL -> "(" + CudaTypes.literal(out, 1) + " / " + x + ")";
      case EXP -> "exp(" + x + ")";
      case LOG -> "log(" + x + ")";
      case SIN -> "sin(" + x + ")";
      case COS -> "cos(" + x + ")";
      case SIGMOID -> "k_sigmoid(" + x + ")";
      case TANH -> "tanh(" + x + ")";
      case FLOOR -> "floor(" + x + ")";
      case CEIL -> "ceil(" + x + ")";
      case ROUND -> "rint(" + x + ")";
      case LOGICAL_NOT -> "(!" + x + ")";
      case CAST -> cast(x, in, out);
      case ADD -> "(" + t + ")(" + x + " + " + y + ")";
      case SUB -> "(" + t + ")(" + x + " - " + y + ")";
      case MUL -> "(" + t + ")(" + x + " * " + y + ")";
      // Integer division by zero has no trap on the GPU (the CPU throws): it yields 0 here.
      case DIV -> fl ? "(" + x + " / " + y + ")" : "(" + y + " == 0 ? (" + t + ")0 : (" + t + ")(" + x + " / " + y + "))";
      case POW -> "k_pow(" + x + ", " + y + ")";
      case MAXIMUM -> fl ? "k_max(" + x + ", " + y + ")" : "(" + x + " > " + y + " ? " + x + " : " + y + ")";
      case MINIMUM -> fl ? "k_min(" + x + ", " + y + ")" : "(" + x + " < " + y + " ? " + x + " : " + y + ")";
      case TRUNCATE_MOD -> "fmod(" + x + ", " + y + ")";
      case LESS -> "(" + x + " < " + y + ")";
      case LESS_EQUAL -> "(" + x + " <= " + y + ")";
      case GREATER -> "(" + x + " > " + y + ")";
      case GREATER_EQUAL -> "(" + x + " >= " + y + ")";
      case EQUAL -> "(" + x + " == " + y + ")";
      case NOT_EQUAL -> "(" + x + " != " + y + ")";
      case LOGICAL_AND -> "(" + x + " && " + y + ")";
      case LOGICAL_OR -> "(" + x + " || " + y + ")";
      case SELECT -> "(" + x + " ? " + y + " : " + a.get(2) + ")";
      case ADD_N -> "(" + t + ")(" + String.join(" + ", a) + ")";
    };
  }

  private static String cast(String x, DType from, DType to) {
    if (from == to) {
      return x;
    }
    if (to == DType.BOOL) {
      return "(" + x + " != 0)";
    }
    if (from == DType.BOOL) {
      return "(" + x + " ? " + CudaTypes.literal(to, 1) + " : " + CudaTypes.literal(to, 0) + ")";
    }
    if (from.isFloating() && to == DType.INT32) {
      return "k_f2i<int>(" + x + ", (int)0x80000000, (int)0x7fffffff)";
    }
    if (from.isFloating() && to == DType.INT64) {
      return "k_f2i<long long>(" + x + ", (long long)0x8000000000000000ULL, (long long)0x7fffffffffffffffLL)";
    }
    return "((" + CudaTypes.c(to) + ")" + x + ")";
  }

  // ------------------------------------------------------------------ reductions

  static List<Integer> axes(Attrs attrs, int rank) {
    List<Integer> out = new ArrayList<>();
    List<?> listed = attrs.find("axes").map(v -> (List<?>) v).orElse(List.of());
    if (listed.isEmpty() && !attrs.has("axes")) {
      for (int d = 0; d < rank; d++) {
        out.add(d);
      }
      return out;
    }
    for (Object o : listed) {
      long a = (Long) o;
      out.add((int) (a < 0 ? a + rank : a));
    }
    out.sort(null);
    return out;
  }

  static int axis(Attrs attrs, String name, long dflt, int rank) {
    long a = attrs.find(name).map(v -> (Long) v).orElse(dflt);
    return (int) (a < 0 ? a + rank : a);
  }

  /** The axes of x that ReduceSumLike sums over to reach like's shape (unbroadcasting). */
  static List<Integer> sumLikeAxes(Shape x, Shape like) {
    List<Integer> axes = new ArrayList<>();
    int shift = x.rank() - like.rank();
    for (int d = 0; d < x.rank(); d++) {
      if (d < shift || (like.dim(d - shift) == 1 && x.dim(d) != 1)) {
        axes.add(d);
      }
    }
    return axes;
  }

  /**
   * Sum/Mean/Max/Min/Prod over {@code axes}: one block per output element, each thread striding over
   * the reduced elements, then a tree in shared memory. Float sums accumulate in double. With
   * {@code likeInput} the kernel takes ReduceSumLike's second input (only its shape matters) so that
   * its parameters stay "inputs, then outputs".
   */
  static KernelSource reduce(String op, TensorType x, List<Integer> axes, TensorType out, boolean likeInput) {
    int[] dims = x.shape().dims();
    long[] strides = strides(dims);
    List<Integer> kept = new ArrayList<>();
    for (int d = 0; d < dims.length; d++) {
      if (!axes.contains(d)) {
        kept.add(d);
      }
    }
    long outputs = 1;
    for (int d : kept) {
      outputs *= dims[d];
    }
    long reduced = 1;
    for (int d : axes) {
      reduced *= dims[d];
    }
    DType dt = x.dtype();
    String t = CudaTypes.c(dt);
    String acc = dt.isFloating() && !op.equals("Max") && !op.equals("Min") ? "double" : (dt == DType.INT32 ? "int" : t);
    String init = switch (op) {
      case "Sum", "Mean" -> "(" + acc + ")0";
      case "Prod" -> "(" + acc + ")1";
      case "Max" -> dt.isFloating() ? "-INFINITY" : (dt == DType.INT32 ? "(int)0x80000000" : "(long long)0x8000000000000000ULL");
      case "Min" -> dt.isFloating() ? "INFINITY" : (dt == DType.INT32 ? "(int)0x7fffffff" : "(long long)0x7fffffffffffffffLL");
      default -> throw new IllegalArgumentException(op);
    };
    if (dt == DType.BOOL) {
      throw new IllegalArgumentException(op + ": no CUDA reduction over bool");
    }
    String combine = switch (op) {
      case "Sum", "Mean" -> "a + b";
      case "Prod" -> "a * b";
      case "Max" -> dt.isFloating() ? "k_max(a, b)" : "(a > b ? a : b)";
      case "Min" -> dt.isFloating() ? "k_min(a, b)" : "(a < b ? a : b)";
      default -> throw new IllegalArgumentException(op);
    };
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("__device__ __forceinline__ ").append(acc).append(" k_combine(").append(acc).append(" a, ").append(acc)
        .append(" b) { return ").append(combine).append("; }\n");
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(const ").append(t).append("* __restrict__ in0, ")
        .append(likeInput ? "const void* in1, " : "").append(CudaTypes.c(out.dtype())).append("* __restrict__ out0) {\n");
    sb.append("  __shared__ ").append(acc).append(" sh[").append(Launch.BLOCK).append("];\n");
    sb.append("  for (long long o = blockIdx.x; o < ").append(outputs).append("LL; o += gridDim.x) {\n");
    sb.append("    long long base = 0, q = o;\n");
    for (int k = kept.size() - 1; k >= 0; k--) {
      int d = kept.get(k);
      sb.append("    base += (q % ").append(dims[d]).append("LL) * ").append(strides[d]).append("LL; q /= ").append(dims[d]).append("LL;\n");
    }
    sb.append("    ").append(acc).append(" acc = ").append(init).append(";\n");
    boolean contiguous = true; // the reduced axes are the trailing ones: a reduction reads one contiguous run
    for (int k = 0; k < axes.size(); k++) {
      contiguous &= axes.get(k) == dims.length - axes.size() + k;
    }
    if (contiguous) {
      // No index arithmetic per element, and UNROLL independent loads in flight per thread.
      sb.append("    for (long long r = threadIdx.x; r < ").append(reduced).append("LL; r += ").append(UNROLL)
          .append("LL * blockDim.x) {\n      ").append(t).append(" v[").append(UNROLL).append("];\n")
          .append("#pragma unroll\n      for (int u = 0; u < ").append(UNROLL).append("; u++) { const long long e = r + (long long)u * blockDim.x; if (e < ")
          .append(reduced).append("LL) { v[u] = in0[base + e]; } }\n")
          .append("#pragma unroll\n      for (int u = 0; u < ").append(UNROLL).append("; u++) { if (r + (long long)u * blockDim.x < ")
          .append(reduced).append("LL) { acc = k_combine(acc, (").append(acc).append(")v[u]); } }\n    }\n");
    } else {
      sb.append("    for (long long r = threadIdx.x; r < ").append(reduced).append("LL; r += blockDim.x) {\n");
      sb.append("      long long off = base, s = r;\n");
      for (int k = axes.size() - 1; k >= 0; k--) {
        int d = axes.get(k);
        sb.append("      off += (s % ").append(dims[d]).append("LL) * ").append(strides[d]).append("LL; s /= ").append(dims[d]).append("LL;\n");
      }
      sb.append("      acc = k_combine(acc, (").append(acc).append(")in0[off]);\n    }\n");
    }
    sb.append(blockTree("sh", "acc", "k_combine(sh[threadIdx.x], sh[threadIdx.x + s])"));
    String result = op.equals("Mean") ? "sh[0] / (" + acc + ")" + reduced : "sh[0]";
    if (op.equals("Mean") && !dt.isFloating()) {
      result = "(" + reduced + "LL == 0 ? 0 : " + result + ")";
    }
    sb.append("    if (threadIdx.x == 0) { out0[o] = (").append(CudaTypes.c(out.dtype())).append(")(").append(result).append("); }\n");
    sb.append("    __syncthreads();\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(outputs, true, false));
  }

  /** Shared-memory tree reduction of {@code value} across the block into {@code sh[0]}. */
  static String blockTree(String sh, String value, String combine) {
    return "    " + sh + "[threadIdx.x] = " + value + ";\n    __syncthreads();\n"
        + "    for (int s = blockDim.x / 2; s > 0; s >>= 1) {\n"
        + "      if (threadIdx.x < s) { " + sh + "[threadIdx.x] = " + combine + "; }\n      __syncthreads();\n    }\n";
  }

  static long[] strides(int[] dims) {
    long[] s = new long[dims.length];
    long acc = 1;
    for (int d = dims.length - 1; d >= 0; d--) {
      s[d] = acc;
      acc *= dims[d];
    }
    return s;
  }

  // ------------------------------------------------------------------ softmax, argmax, one-hot

  /** Softmax/LogSoftmax along {@code axis}: one block per row (max, sum of exponentials, write). */
  static KernelSource softmax(boolean log, TensorType x, int axis) {
    int[] dims = x.shape().dims();
    long len = dims[axis];
    long inner = strides(dims)[axis];
    long rows = x.shape().numElements() / Math.max(1, len);
    String t = CudaTypes.c(x.dtype());
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(const ").append(t).append("* __restrict__ in0, ")
        .append(t).append("* __restrict__ out0) {\n");
    sb.append("  __shared__ ").append(t).append(" sh[").append(Launch.BLOCK).append("];\n");
    sb.append("  for (long long row = blockIdx.x; row < ").append(rows).append("LL; row += gridDim.x) {\n");
    sb.append("    const long long base = (row / ").append(inner).append("LL) * ").append(len * inner)
        .append("LL + row % ").append(inner).append("LL;\n");
    sb.append("    ").append(t).append(" m = -INFINITY;\n");
    sb.append("    for (long long j = threadIdx.x; j < ").append(len).append("LL; j += blockDim.x) { m = k_max(m, in0[base + j * ")
        .append(inner).append("LL]); }\n");
    sb.append(blockTree("sh", "m", "k_max(sh[threadIdx.x], sh[threadIdx.x + s])"));
    sb.append("    m = sh[0];\n    __syncthreads();\n");
    sb.append("    ").append(t).append(" z = 0;\n");
    sb.append("    for (long long j = threadIdx.x; j < ").append(len).append("LL; j += blockDim.x) { z += exp(in0[base + j * ")
        .append(inner).append("LL] - m); }\n");
    sb.append(blockTree("sh", "z", "sh[threadIdx.x] + sh[threadIdx.x + s]"));
    sb.append("    z = sh[0];\n    __syncthreads();\n");
    sb.append("    const ").append(t).append(log ? " lz = log(z);\n" : " rz = (" + t + ")1 / z;\n");
    sb.append("    for (long long j = threadIdx.x; j < ").append(len).append("LL; j += blockDim.x) {\n");
    sb.append("      const long long p = base + j * ").append(inner).append("LL;\n");
    sb.append(log ? "      out0[p] = in0[p] - m - lz;\n" : "      out0[p] = exp(in0[p] - m) * rz;\n");
    sb.append("    }\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(rows, true, false));
  }

  /** ArgMax along {@code axis}: one thread per output, the first maximum (NaN counts as maximum). */
  static KernelSource argMax(TensorType x, int axis, TensorType out) {
    int[] dims = x.shape().dims();
    long len = dims[axis];
    long inner = strides(dims)[axis];
    long n = out.shape().numElements();
    String t = CudaTypes.c(x.dtype());
    String o = CudaTypes.c(out.dtype());
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(const ").append(t).append("* __restrict__ in0, ")
        .append(o).append("* __restrict__ out0) {\n");
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(n)
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n");
    sb.append("    const long long base = (i / ").append(inner).append("LL) * ").append(len * inner)
        .append("LL + i % ").append(inner).append("LL;\n");
    sb.append("    ").append(t).append(" best = in0[base]; long long at = 0;\n");
    sb.append("    for (long long j = 1; j < ").append(len).append("LL && !k_isnan(best); j++) {\n");
    sb.append("      const ").append(t).append(" v = in0[base + j * ").append(inner).append("LL];\n");
    sb.append("      if (v > best || k_isnan(v)) { best = v; at = j; }\n    }\n");
    sb.append("    out0[i] = (").append(o).append(")at;\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** OneHot along a new last axis: out[i, j] = indices[i] == j ? on : off. */
  static KernelSource oneHot(Attrs attrs, TensorType indices, TensorType out) {
    long depth = attrs.getLong("depth");
    DType d = out.dtype();
    String on = CudaTypes.literal(d, attrs.getDouble("on_value"));
    String off = CudaTypes.literal(d, attrs.getDouble("off_value"));
    long n = out.shape().numElements();
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(const ").append(CudaTypes.c(indices.dtype()))
        .append("* __restrict__ in0, ").append(CudaTypes.c(d)).append("* __restrict__ out0) {\n");
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(n)
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n");
    sb.append("    out0[i] = ((long long)in0[i / ").append(depth).append("LL] == i % ").append(depth).append("LL) ? ")
        .append(on).append(" : ").append(off).append(";\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** RandomUniform/RandomNormal: the CPU runtime's counter-based stream, from this run's first counter. */
  static KernelSource random(boolean normal, long seed, TensorType out) {
    long n = out.shape().numElements();
    String t = CudaTypes.c(out.dtype());
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(").append(t)
        .append("* __restrict__ out0, unsigned long long first) {\n");
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(n)
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n");
    sb.append("    out0[i] = (").append(t).append(")").append(normal ? "k_normal" : "k_uniform").append("(")
        .append(Long.toUnsignedString(seed)).append("ULL, first + (unsigned long long)i);\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(n, false, true));
  }

  /** Transpose by a permutation (attr perm; reversed dims when absent): one thread per output element. */
  static KernelSource transpose(Attrs attrs, TensorType x, TensorType out) {
    int[] in = x.shape().dims();
    int r = in.length;
    int[] perm = new int[r];
    List<?> p = attrs.find("perm").map(v -> (List<?>) v).orElse(null);
    for (int d = 0; d < r; d++) {
      perm[d] = p == null ? r - 1 - d : ((Long) p.get(d)).intValue();
    }
    long[] inStrides = strides(in);
    int[] od = out.shape().dims();
    long n = out.shape().numElements();
    String t = CudaTypes.c(x.dtype());
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(const ").append(t).append("* __restrict__ in0, ")
        .append(t).append("* __restrict__ out0) {\n");
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(n)
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n    long long rest = i, off = 0;\n");
    for (int d = r - 1; d >= 0; d--) {
      sb.append("    off += (rest % ").append(od[d]).append("LL) * ").append(inStrides[perm[d]]).append("LL; rest /= ")
          .append(od[d]).append("LL;\n");
    }
    sb.append("    out0[i] = in0[off];\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** The start of a gather kernel over the output: coordinates c0.. of output element i. */
  private static StringBuilder gatherHead(List<TensorType> in, TensorType out) {
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(");
    for (int i = 0; i < in.size(); i++) {
      sb.append("const ").append(CudaTypes.c(in.get(i).dtype())).append("* __restrict__ in").append(i).append(", ");
    }
    sb.append(CudaTypes.c(out.dtype())).append("* __restrict__ out0) {\n");
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(out.shape().numElements())
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n    long long rest = i;\n");
    int[] od = out.shape().dims();
    for (int d = od.length - 1; d >= 0; d--) {
      sb.append("    const long long c").append(d).append(" = rest % ").append(od[d]).append("LL; rest /= ").append(od[d]).append("LL;\n");
    }
    return sb;
  }

  /** Slice: out[c] = in[c + begin]. */
  static KernelSource slice(List<Long> begin, TensorType x, TensorType out) {
    StringBuilder sb = gatherHead(List.of(x), out);
    long[] st = strides(x.shape().dims());
    StringBuilder off = new StringBuilder("0");
    for (int d = 0; d < st.length; d++) {
      off.append(" + (c").append(d).append(" + ").append(begin.get(d)).append("LL) * ").append(st[d]).append("LL");
    }
    sb.append("    out0[i] = in0[").append(off).append("];\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(out.shape().numElements(), false, false));
  }

  /** Pad with zeros: out[c] = in[c - before] inside the input, 0 outside. */
  static KernelSource pad(List<Long> paddings, TensorType x, TensorType out) {
    StringBuilder sb = gatherHead(List.of(x), out);
    int[] xd = x.shape().dims();
    long[] st = strides(xd);
    StringBuilder off = new StringBuilder("0");
    List<String> inside = new ArrayList<>();
    for (int d = 0; d < xd.length; d++) {
      String q = "(c" + d + " - " + paddings.get(2 * d) + "LL)";
      inside.add(q + " >= 0 && " + q + " < " + xd[d] + "LL");
      off.append(" + ").append(q).append(" * ").append(st[d]).append("LL");
    }
    String zero = CudaTypes.literal(out.dtype(), 0);
    sb.append("    out0[i] = (").append(inside.isEmpty() ? "true" : String.join(" && ", inside)).append(") ? in0[")
        .append(off).append("] : ").append(zero).append(";\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(out.shape().numElements(), false, false));
  }

  /** Concat along {@code axis}: the input that holds the output's coordinate along the axis. */
  static KernelSource concat(int axis, List<TensorType> in, TensorType out) {
    StringBuilder sb = gatherHead(in, out);
    long start = 0;
    for (int k = 0; k < in.size(); k++) {
      int[] kd = in.get(k).shape().dims();
      long[] st = strides(kd);
      long end = start + kd[axis];
      StringBuilder off = new StringBuilder("0");
      for (int d = 0; d < kd.length; d++) {
        off.append(" + ").append(d == axis ? "(c" + d + " - " + start + "LL)" : "c" + d).append(" * ").append(st[d]).append("LL");
      }
      sb.append(k == 0 ? "    if" : "    else if").append(" (c").append(axis).append(" < ").append(end).append("LL) { out0[i] = in")
          .append(k).append('[').append(off).append("]; }\n");
      start = end;
    }
    sb.append("  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(out.shape().numElements(), false, false));
  }

  // ------------------------------------------------------------------ matrix product (fallback GEMM)

  static final int TILE = 16;

  /**
   * C = act(op(A) op(B) + bias), row-major, a 16x16 shared-memory tiled kernel with all sizes baked
   * in. The executor uses cuBLAS when it loads and this kernel when it does not (see docs/cuda.md).
   */
  static KernelSource gemm(List<TensorType> in, TensorType out, Attrs attrs, boolean bias, String activation) {
    return gemm(in, out, attrs, bias, activation, false);
  }

  /**
   * Gemm without cuBLAS: out = alpha * op(in0) op(in1) + beta * in2. Each output element is read from
   * in2 and written by the one thread that computes it, so out may be in2 itself (the variable an SGD
   * update writes in place): neither carries {@code __restrict__}.
   */
  static KernelSource gemmAccumulate(List<TensorType> in, TensorType out, Attrs attrs) {
    return gemm(in, out, attrs, false, "none", true);
  }

  /** Alpha and beta of a Gemm node (defaults 1, 1 when absent, as the op defines them). */
  static double[] alphaBeta(Attrs attrs) {
    return new double[] {attrs.find("alpha").map(v -> ((Number) v).doubleValue()).orElse(1.0),
        attrs.find("beta").map(v -> ((Number) v).doubleValue()).orElse(1.0)};
  }

  private static KernelSource gemm(List<TensorType> in, TensorType out, Attrs attrs, boolean bias, String activation,
      boolean accumulate) {
    boolean ta = attrs.find("transpose_a").map(v -> (Boolean) v).orElse(false);
    boolean tb = attrs.find("transpose_b").map(v -> (Boolean) v).orElse(false);
    int m = out.shape().dim(0);
    int n = out.shape().dim(1);
    int k = ta ? in.get(0).shape().dim(0) : in.get(0).shape().dim(1);
    String t = CudaTypes.c(out.dtype());
    // A(i, p) and B(p, j) in row-major storage, transposed or not.
    String a = ta ? "in0[(long long)p * " + m + " + i]" : "in0[(long long)i * " + k + " + p]";
    String b = tb ? "in1[(long long)j * " + k + " + p]" : "in1[(long long)p * " + n + " + j]";
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(const ").append(t).append("* __restrict__ in0, const ")
        .append(t).append("* __restrict__ in1, ");
    if (bias) {
      sb.append("const ").append(t).append("* __restrict__ in2, ");
    }
    if (accumulate) {
      sb.append("const ").append(t).append("* in2, ").append(t).append("* out0) {\n");
    } else {
      sb.append(t).append("* __restrict__ out0) {\n");
    }
    sb.append("  __shared__ ").append(t).append(" sa[").append(TILE).append("][").append(TILE + 1).append("];\n");
    sb.append("  __shared__ ").append(t).append(" sb[").append(TILE).append("][").append(TILE + 1).append("];\n");
    sb.append("  const int tilesN = ").append((n + TILE - 1) / TILE).append(";\n");
    sb.append("  const long long tiles = (long long)").append((m + TILE - 1) / TILE).append(" * tilesN;\n");
    sb.append("  const int tx = threadIdx.x % ").append(TILE).append(", ty = threadIdx.x / ").append(TILE).append(";\n");
    sb.append("  for (long long tile = blockIdx.x; tile < tiles; tile += gridDim.x) {\n");
    sb.append("    const int row0 = (int)(tile / tilesN) * ").append(TILE).append(", col0 = (int)(tile % tilesN) * ").append(TILE).append(";\n");
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (int p0 = 0; p0 < ").append(k).append("; p0 += ").append(TILE).append(") {\n");
    sb.append("      { const int i = row0 + ty, p = p0 + tx; sa[ty][tx] = (i < ").append(m).append(" && p < ").append(k)
        .append(") ? ").append(a).append(" : (").append(t).append(")0; }\n");
    sb.append("      { const int p = p0 + ty, j = col0 + tx; sb[ty][tx] = (p < ").append(k).append(" && j < ").append(n)
        .append(") ? ").append(b).append(" : (").append(t).append(")0; }\n");
    sb.append("      __syncthreads();\n");
    sb.append("      #pragma unroll\n      for (int q = 0; q < ").append(TILE).append("; q++) { acc += sa[ty][q] * sb[q][tx]; }\n");
    sb.append("      __syncthreads();\n    }\n");
    sb.append("    const int i = row0 + ty, j = col0 + tx;\n");
    sb.append("    if (i < ").append(m).append(" && j < ").append(n).append(") {\n");
    if (bias) {
      Shape bs = in.get(2).shape();
      String bo = bs.numElements() == 1 ? "0" : (bs.rank() == 2 && bs.dim(0) != 1 ? (bs.dim(1) == 1 ? "i" : "(long long)i * " + n + " + j") : "j");
      sb.append("      acc += in2[").append(bo).append("];\n");
    }
    if (accumulate) {
      double[] ab = alphaBeta(attrs);
      String idx = "(long long)i * " + n + " + j";
      sb.append("      out0[").append(idx).append("] = ").append(CudaTypes.literal(out.dtype(), ab[0]))
          .append(" * acc + ").append(CudaTypes.literal(out.dtype(), ab[1])).append(" * in2[")
          .append(idx).append("];\n");
    } else {
      sb.append("      out0[(long long)i * ").append(n).append(" + j] = ").append(activation(activation, "acc")).append(";\n");
    }
    sb.append("    }\n  }\n}\n");
    long tiles = (long) ((m + TILE - 1) / TILE) * ((n + TILE - 1) / TILE);
    return new KernelSource(sb.toString(), new Launch(tiles, true, false));
  }

  /**
   * The epilogue of a cuBLAS FusedMatMul, in place on the product: out = act(out + bias).
   * An ordinary grid-stride elementwise kernel.
   */
  static KernelSource epilogue(TensorType product, TensorType bias, String activation) {
    long n = product.shape().numElements();
    int cols = product.shape().dim(1);
    String t = CudaTypes.c(product.dtype());
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(ENTRY).append("(");
    if (bias != null) {
      sb.append("const ").append(t).append("* __restrict__ in0, ");
    }
    sb.append(t).append("* __restrict__ out0) {\n");
    sb.append("  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < ").append(n)
        .append("LL; i += (long long)gridDim.x * blockDim.x) {\n");
    String bo = "0";
    if (bias != null && bias.shape().numElements() != 1) {
      Shape bs = bias.shape();
      bo = bs.rank() == 2 && bs.dim(0) != 1 ? (bs.dim(1) == 1 ? "i / " + cols : "i") : "i % " + cols;
    }
    sb.append("    const ").append(t).append(" acc = out0[i]").append(bias != null ? " + in0[" + bo + "]" : "").append(";\n");
    sb.append("    out0[i] = ").append(activation(activation, "acc")).append(";\n  }\n}\n");
    return new KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** AssignAdd/AssignSub in place on a device variable: var[i] += / -= value[i] (no aliasing hints). */
  static KernelSource assignUpdate(TensorType var, boolean subtract) {
    long n = var.shape().numElements();
    String t = CudaTypes.c(var.dtype());
    String src = CudaTypes.PRELUDE + "extern \"C\" __global__ void " + ENTRY + "(" + t + "* var, const " + t + "* value) {\n"
        + "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < " + n
        + "LL; i += (long long)gridDim.x * blockDim.x) {\n"
        + "    var[i] = (" + t + ")(var[i] " + (subtract ? "-" : "+") + " value[i]);\n  }\n}\n";
    return new KernelSource(src, new Launch(n, false, false));
  }

  /** {@code v} through FusedMatMul activation {@code act} (a float product's value). */
  private static String activation(String act, String v) {
    return Elementwise.activation(act).map(p -> primitive(p, DType.FLOAT32, DType.FLOAT32, List.of(v))).orElse(v);
  }
}
