package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Shape;
import dev.kiln.graph.TensorType;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * CUDA C for the array ops: BatchMatMul (one thread per output element, the batch dimensions
 * broadcast through strides), Tile and BroadcastTo (one gather), Cumsum (one thread per scanned line,
 * adding in the dtype in the CPU's order), Range, ArgMin and TopK. Shapes are baked in as everywhere.
 */
final class CudaArrayCodegen {
  private CudaArrayCodegen() {}

  static final Set<String> TYPES = Set.of("BatchMatMul", "Tile", "BroadcastTo", "Cumsum", "Range", "ArgMin", "TopK");

  static CudaCodegen.KernelSource generate(Operation op, List<TensorType> in, List<TensorType> out) {
    var a = op.attrs();
    int rank = in.isEmpty() ? 0 : in.get(0).shape().rank();
    return switch (op.type()) {
      case "BatchMatMul" -> batchMatMul(in.get(0), in.get(1), out.get(0), a.getBool("transpose_a", false),
          a.getBool("transpose_b", false));
      case "Tile", "BroadcastTo" -> repeat(in.get(0), out.get(0));
      case "Cumsum" -> cumsum(in.get(0), CudaCodegen.axis(a, "axis", 0, rank), a.getBool("exclusive", false),
          a.getBool("reverse", false));
      case "Range" -> range(out.get(0), a.getDouble("start"), a.getDouble("delta"));
      case "TopK" -> topK(in.get(0), (int) a.getLong("k"), a.getBool("sorted", true));
      case "ArgMin" -> argMin(in.get(0), CudaCodegen.axis(a, "axis", 0, rank), out.get(0));
      default -> throw new IllegalArgumentException(op.type() + " '" + op.name() + "': not an array op");
    };
  }

  private static String gridLoop(long n) {
    return "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < " + n
        + "LL; i += (long long)gridDim.x * blockDim.x) {\n";
  }

  private static StringBuilder head(List<TensorType> in, TensorType out) {
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(CudaCodegen.ENTRY).append("(");
    for (int i = 0; i < in.size(); i++) {
      sb.append("const ").append(CudaTypes.c(in.get(i).dtype())).append("* __restrict__ in").append(i).append(", ");
    }
    sb.append(CudaTypes.c(out.dtype())).append("* __restrict__ out0) {\n");
    return sb;
  }

  /** Declares c0.. (coordinates of {@code dims}) of the flat index held in {@code rest}. */
  private static String coords(int[] dims) {
    StringBuilder sb = new StringBuilder();
    for (int d = dims.length - 1; d >= 0; d--) {
      sb.append("    const long long c").append(d).append(" = rest % ").append(dims[d]).append("LL; rest /= ").append(dims[d]).append("LL;\n");
    }
    return sb.toString();
  }

  /**
   * BatchMatMul: out[b, i, j] = sum over p of op(a)[b', i, p] op(b)[b'', p, j], b' and b'' the batch
   * coordinate broadcast onto each operand's batch dimensions.
   */
  static CudaCodegen.KernelSource batchMatMul(TensorType a, TensorType b, TensorType out, boolean ta, boolean tb) {
    int[] od = out.shape().dims();
    int r = od.length;
    int m = od[r - 2];
    int n = od[r - 1];
    int[] ad = a.shape().dims();
    int k = ta ? ad[ad.length - 2] : ad[ad.length - 1];
    Shape batch = Shape.of(Arrays.copyOf(od, r - 2));
    Shape aBatch = Shape.of(Arrays.copyOf(ad, ad.length - 2));
    int[] bd = b.shape().dims();
    Shape bBatch = Shape.of(Arrays.copyOf(bd, bd.length - 2));
    String t = CudaTypes.c(out.dtype());
    long total = out.shape().numElements();
    StringBuilder sb = head(List.of(a, b), out);
    sb.append(gridLoop(total));
    sb.append("    const int j = (int)(i % ").append(n).append("LL), row = (int)((i / ").append(n).append("LL) % ").append(m).append("LL);\n");
    sb.append("    long long rest = i / ").append((long) m * n).append("LL;\n");
    sb.append(coords(batch.dims()));
    sb.append("    const long long bi = i / ").append((long) m * n).append("LL;\n");
    String ao = batchOffset(aBatch, batch);
    String bo = batchOffset(bBatch, batch);
    sb.append("    const ").append(t).append("* A = in0 + (").append(ao).append(") * ").append((long) m * k).append("LL;\n");
    sb.append("    const ").append(t).append("* B = in1 + (").append(bo).append(") * ").append((long) k * n).append("LL;\n");
    String av = ta ? "A[(long long)p * " + m + " + row]" : "A[(long long)row * " + k + " + p]";
    String bv = tb ? "B[(long long)j * " + k + " + p]" : "B[(long long)p * " + n + " + j]";
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (int p = 0; p < ").append(k).append("; p++) { acc += ").append(av).append(" * ").append(bv).append("; }\n");
    sb.append("    out0[i] = acc;\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(total, false, false));
  }

  /** An operand's matrix index within its batch dimensions, at the output's batch coordinates c0.. (flat: bi). */
  private static String batchOffset(Shape operand, Shape batch) {
    if (operand.rank() == 0) {
      return "0";
    }
    String o = CudaCodegen.offset(operand, batch);
    return o.equals("i") ? "bi" : o;
  }

  /** Tile / BroadcastTo: out[c] = in[c mod in's dims] (the input's rank padded with leading 1s). */
  static CudaCodegen.KernelSource repeat(TensorType x, TensorType out) {
    int[] od = out.shape().dims();
    int[] xd = x.shape().dims();
    long[] st = CudaCodegen.strides(xd);
    long total = out.shape().numElements();
    StringBuilder sb = head(List.of(x), out);
    sb.append(gridLoop(total));
    sb.append("    long long rest = i;\n").append(coords(od));
    StringBuilder off = new StringBuilder("0");
    int shift = od.length - xd.length;
    for (int d = 0; d < xd.length; d++) {
      off.append(" + (c").append(d + shift).append(" % ").append(xd[d]).append("LL) * ").append(st[d]).append("LL");
    }
    sb.append("    out0[i] = in0[").append(off).append("];\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(total, false, false));
  }

  /** Cumsum along {@code axis}: each thread scans one line, y[t] = y[t-1] + x[t] (exclusive: x[t-1]). */
  static CudaCodegen.KernelSource cumsum(TensorType x, int axis, boolean exclusive, boolean reverse) {
    int[] dims = x.shape().dims();
    long n = dims[axis];
    long inner = CudaCodegen.strides(dims)[axis];
    long lines = n == 0 ? 0 : x.shape().numElements() / n;
    String t = CudaTypes.c(x.dtype());
    StringBuilder sb = head(List.of(x), x);
    sb.append(gridLoop(lines));
    sb.append("    const long long base = (i / ").append(inner).append("LL) * ").append(n * inner).append("LL + i % ").append(inner).append("LL;\n");
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (long long s = 0; s < ").append(n).append("LL; s++) {\n");
    sb.append("      const long long at = base + ").append(reverse ? "(" + (n - 1) + "LL - s)" : "s").append(" * ").append(inner).append("LL;\n");
    if (exclusive) {
      sb.append("      const ").append(t).append(" v = in0[at];\n      out0[at] = acc;\n      acc = (").append(t).append(")(acc + v);\n");
    } else {
      sb.append("      acc = s == 0 ? in0[at] : (").append(t).append(")(acc + in0[at]);\n      out0[at] = acc;\n");
    }
    sb.append("    }\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(lines, false, false));
  }

  /** Range: out[i] = start + i * delta in double, then converted (truncated for integers, as the CPU). */
  static CudaCodegen.KernelSource range(TensorType out, double start, double delta) {
    long n = out.shape().numElements();
    StringBuilder sb = head(List.of(), out);
    sb.append(gridLoop(n));
    sb.append("    out0[i] = (").append(CudaTypes.c(out.dtype())).append(")(").append(CudaTypes.literal(DType.FLOAT64, start))
        .append(" + (double)i * ").append(CudaTypes.literal(DType.FLOAT64, delta)).append(");\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** ArgMin along {@code axis}: the first index of the minimum (a NaN after the first element never wins). */
  static CudaCodegen.KernelSource argMin(TensorType x, int axis, TensorType out) {
    int[] dims = x.shape().dims();
    long len = dims[axis];
    long inner = CudaCodegen.strides(dims)[axis];
    long n = out.shape().numElements();
    String t = CudaTypes.c(x.dtype());
    StringBuilder sb = head(List.of(x), out);
    sb.append(gridLoop(n));
    sb.append("    const long long base = (i / ").append(inner).append("LL) * ").append(len * inner).append("LL + i % ").append(inner).append("LL;\n");
    sb.append("    ").append(t).append(" best = in0[base]; long long at = 0;\n");
    sb.append("    for (long long j = 1; j < ").append(len).append("LL; j++) {\n");
    sb.append("      const ").append(t).append(" v = in0[base + j * ").append(inner).append("LL];\n");
    sb.append("      if (v < best) { best = v; at = j; }\n    }\n");
    sb.append("    out0[i] = (").append(CudaTypes.c(out.dtype())).append(")at;\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /**
   * TopK along the last axis, outputs (values, int32 indices): one thread per row selects k times the
   * best element ranked after the previous pick, in the CPU's strict order (larger first, NaN above
   * every number and -0 below +0 as Float.compare, equal values by lower index); unsorted, the k
   * picks are then put in index order. O(n k) per row.
   */
  static CudaCodegen.KernelSource topK(TensorType x, int k, boolean sorted) {
    int[] dims = x.shape().dims();
    int n = dims[dims.length - 1];
    long rows = n == 0 ? 0 : x.shape().numElements() / n;
    DType d = x.dtype();
    String t = CudaTypes.c(d);
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("__device__ __forceinline__ int k_cmp(").append(t).append(" a, ").append(t).append(" b) {\n");
    sb.append("  if (a < b) { return -1; }\n  if (a > b) { return 1; }\n");
    if (d.isFloating()) {
      sb.append("  const bool an = a != a, bn = b != b;\n");
      sb.append("  if (an || bn) { return an == bn ? 0 : (an ? 1 : -1); }\n");
      sb.append("  const bool sa = signbit(a), sb = signbit(b);\n  return sa == sb ? 0 : (sa ? -1 : 1);\n");
    } else {
      sb.append("  return 0;\n");
    }
    sb.append("}\n");
    sb.append("extern \"C\" __global__ void ").append(CudaCodegen.ENTRY).append("(const ").append(t).append("* __restrict__ in0, ")
        .append(t).append("* __restrict__ out0, int* __restrict__ out1) {\n");
    sb.append(gridLoop(k == 0 ? 0 : rows));
    sb.append("    const ").append(t).append("* row = in0 + i * ").append(n).append("LL;\n");
    sb.append("    int* idx = out1 + i * ").append(k).append("LL;\n");
    sb.append("    int prev = -1;\n");
    sb.append("    for (int j = 0; j < ").append(k).append("; j++) {\n");
    sb.append("      int best = -1;\n");
    sb.append("      for (int e = 0; e < ").append(n).append("; e++) {\n");
    sb.append("        if (prev >= 0) { const int c = k_cmp(row[prev], row[e]); if (!(c > 0 || (c == 0 && prev < e))) { continue; } }\n");
    sb.append("        if (best < 0) { best = e; continue; }\n");
    sb.append("        const int c = k_cmp(row[e], row[best]);\n");
    sb.append("        if (c > 0 || (c == 0 && e < best)) { best = e; }\n");
    sb.append("      }\n      idx[j] = best; prev = best;\n    }\n");
    if (!sorted) {
      sb.append("    for (int j = 1; j < ").append(k).append("; j++) { const int v = idx[j]; int m = j - 1;\n");
      sb.append("      while (m >= 0 && idx[m] > v) { idx[m + 1] = idx[m]; m--; }\n      idx[m + 1] = v;\n    }\n");
    }
    sb.append("    for (int j = 0; j < ").append(k).append("; j++) { out0[i * ").append(k).append("LL + j] = row[idx[j]]; }\n");
    sb.append("  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(k == 0 ? 0 : rows, false, false));
  }
}
