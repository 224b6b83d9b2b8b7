package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.List;
import java.util.Set;

/**
 * CUDA C for batch and layer normalization and their backward ops, x viewed as [rows, channels]
 * (channels last), each one kernel of one block per channel or row with block-wide sums in double,
 * as the CPU kernels accumulate. Formulas and rounding points follow the CPU's {@code NormKernels} and
 * {@code LayerNormKernels}: the statistics a run outputs are stored in the tensor's dtype and y is
 * computed from the stored values.
 */
final class CudaNormCodegen {
  private CudaNormCodegen() {}

  static final Set<String> TYPES = Set.of("BatchNorm", "BatchNormGrad", "LayerNorm", "LayerNormGrad");

  static CudaCodegen.KernelSource generate(Operation op, List<TensorType> in, List<TensorType> out) {
    double eps = op.attrs().getDouble("epsilon");
    TensorType x = op.type().equals("BatchNorm") || op.type().equals("LayerNorm") ? in.get(0) : in.get(1);
    int[] dims = x.shape().dims();
    int ch = dims[dims.length - 1];
    long rows = ch == 0 ? 0 : x.shape().numElements() / ch;
    return switch (op.type()) {
      case "BatchNorm" -> batchNorm(x.dtype(), rows, ch, eps, op.attrs().getBool("training"));
      case "BatchNormGrad" -> batchNormGrad(x.dtype(), rows, ch, eps);
      case "LayerNorm" -> layerNorm(x.dtype(), rows, ch, eps);
      case "LayerNormGrad" -> layerNormGrad(x.dtype(), rows, ch, eps);
      default -> throw new IllegalArgumentException(op.type() + " '" + op.name() + "': not a normalization op");
    };
  }

  /** A block-wide sum of each thread's double (every thread gets the total; sh is free again after). */
  private static final String BLOCK_SUM = """
      __device__ double k_block_sum(double v, double* sh) {
        sh[threadIdx.x] = v;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
          if (threadIdx.x < s) { sh[threadIdx.x] += sh[threadIdx.x + s]; }
          __syncthreads();
        }
        const double r = sh[0];
        __syncthreads();
        return r;
      }
      """;

  private static StringBuilder head(DType d, int inputs, int outputs) {
    String t = CudaTypes.c(d);
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE).append(BLOCK_SUM);
    sb.append("extern \"C\" __global__ void ").append(CudaCodegen.ENTRY).append("(");
    for (int i = 0; i < inputs; i++) {
      sb.append("const ").append(t).append("* __restrict__ in").append(i).append(", ");
    }
    for (int i = 0; i < outputs; i++) {
      sb.append(i == 0 ? "" : ", ").append(t).append("* __restrict__ out").append(i);
    }
    sb.append(") {\n  __shared__ double sh[").append(Launch.BLOCK).append("];\n");
    return sb;
  }

  private static String eps(double eps) {
    return CudaTypes.literal(DType.FLOAT64, eps);
  }

  /**
   * BatchNorm (x, scale, offset, mean, variance) to (y, mean used, variance used): one block per
   * channel; in training the biased statistics of the channel's column (mean, then squared deviations
   * from it).
   */
  static CudaCodegen.KernelSource batchNorm(DType d, long rows, int ch, double eps, boolean training) {
    String t = CudaTypes.c(d);
    StringBuilder sb = head(d, 5, 3);
    sb.append("  for (int c = blockIdx.x; c < ").append(ch).append("; c += gridDim.x) {\n");
    if (training) {
      String n = Long.toString(Math.max(rows, 1));
      sb.append("    double s = 0;\n");
      sb.append("    for (long long r = threadIdx.x; r < ").append(rows).append("LL; r += blockDim.x) { s += (double)in0[r * ")
          .append(ch).append(" + c]; }\n");
      sb.append("    const double mean = k_block_sum(s, sh) / ").append(n).append(".0;\n");
      sb.append("    s = 0;\n");
      sb.append("    for (long long r = threadIdx.x; r < ").append(rows).append("LL; r += blockDim.x) { const double v = (double)in0[r * ")
          .append(ch).append(" + c] - mean; s += v * v; }\n");
      sb.append("    const double var = k_block_sum(s, sh) / ").append(n).append(".0;\n");
      sb.append("    const ").append(t).append(" m = (").append(t).append(")mean, q = (").append(t).append(")var;\n");
    } else {
      sb.append("    const ").append(t).append(" m = in3[c], q = in4[c];\n");
    }
    sb.append("    if (threadIdx.x == 0) { out1[c] = m; out2[c] = q; }\n");
    sb.append("    const double a = (double)in1[c] / sqrt((double)q + ").append(eps(eps)).append(");\n");
    sb.append("    const double b = (double)in2[c] - (double)m * a;\n");
    sb.append("    for (long long r = threadIdx.x; r < ").append(rows).append("LL; r += blockDim.x) { out0[r * ").append(ch)
        .append(" + c] = (").append(t).append(")((double)in0[r * ").append(ch).append(" + c] * a + b); }\n");
    sb.append("  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(ch, true, false));
  }

  /**
   * BatchNormGrad (dy, x, scale, mean, variance) to (dx, dscale, doffset), training mode: one block per
   * channel; dx = scale inv (dy - (sum dy + xhat sum(dy xhat)) / N).
   */
  static CudaCodegen.KernelSource batchNormGrad(DType d, long rows, int ch, double eps) {
    String t = CudaTypes.c(d);
    StringBuilder sb = head(d, 5, 3);
    sb.append("  for (int c = blockIdx.x; c < ").append(ch).append("; c += gridDim.x) {\n");
    sb.append("    const double m = (double)in3[c], inv = 1.0 / sqrt((double)in4[c] + ").append(eps(eps)).append(");\n");
    sb.append("    double s0 = 0, s1 = 0;\n");
    sb.append("    for (long long r = threadIdx.x; r < ").append(rows).append("LL; r += blockDim.x) {\n");
    sb.append("      const long long i = r * ").append(ch).append(" + c;\n");
    sb.append("      const double g = (double)in0[i];\n      s0 += g; s1 += g * ((double)in1[i] - m) * inv;\n    }\n");
    sb.append("    const double sumG = k_block_sum(s0, sh), sumGx = k_block_sum(s1, sh);\n");
    sb.append("    if (threadIdx.x == 0) { out1[c] = (").append(t).append(")sumGx; out2[c] = (").append(t).append(")sumG; }\n");
    sb.append("    for (long long r = threadIdx.x; r < ").append(rows).append("LL; r += blockDim.x) {\n");
    sb.append("      const long long i = r * ").append(ch).append(" + c;\n");
    sb.append("      const double xhat = ((double)in1[i] - m) * inv;\n");
    sb.append("      out0[i] = (").append(t).append(")((double)in2[c] * inv * ((double)in0[i] - (sumG + xhat * sumGx) / ")
        .append(Math.max(rows, 1)).append(".0));\n    }\n");
    sb.append("  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(ch, true, false));
  }

  /** Declares mean and rstd of row {@code row} (block-wide sums). */
  private static String rowStats(long ch, double eps) {
    return "    double s = 0;\n"
        + "    for (int c = threadIdx.x; c < " + ch + "; c += blockDim.x) { s += (double)x[c]; }\n"
        + "    const double mean = k_block_sum(s, sh) / " + ch + ".0;\n"
        + "    s = 0;\n"
        + "    for (int c = threadIdx.x; c < " + ch + "; c += blockDim.x) { const double v = (double)x[c] - mean; s += v * v; }\n"
        + "    const double rstd = 1.0 / sqrt(k_block_sum(s, sh) / " + ch + ".0 + " + eps(eps) + ");\n";
  }

  /** LayerNorm (x, gamma, beta): one block per row, y = (x - mean) rstd gamma + beta. */
  static CudaCodegen.KernelSource layerNorm(DType d, long rows, int ch, double eps) {
    String t = CudaTypes.c(d);
    StringBuilder sb = head(d, 3, 1);
    sb.append("  for (long long row = blockIdx.x; row < ").append(rows).append("LL; row += gridDim.x) {\n");
    sb.append("    const ").append(t).append("* x = in0 + row * ").append(ch).append(";\n");
    sb.append(rowStats(ch, eps));
    sb.append("    for (int c = threadIdx.x; c < ").append(ch).append("; c += blockDim.x) { out0[row * ").append(ch)
        .append(" + c] = (").append(t).append(")(((double)x[c] - mean) * rstd * (double)in1[c] + (double)in2[c]); }\n");
    sb.append("  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(rows, true, false));
  }

  /**
   * LayerNormGrad (dy, x, gamma) to (dx, dgamma, dbeta): blocks 0..rows-1 each take a row's dx =
   * rstd (g - mean(g) - xhat mean(g xhat)) with g = dy gamma; blocks rows..rows+ch-1 each sum one
   * channel's dy xhat and dy over the rows, each thread recomputing its rows' statistics (no
   * scratch memory between the two, so the channel sums read x once per channel).
   */
  static CudaCodegen.KernelSource layerNormGrad(DType d, long rows, int ch, double eps) {
    String t = CudaTypes.c(d);
    StringBuilder sb = head(d, 3, 3);
    sb.append("  for (long long o = blockIdx.x; o < ").append(rows + ch).append("LL; o += gridDim.x) {\n");
    sb.append("    if (o < ").append(rows).append("LL) {\n");
    sb.append("      const long long row = o;\n");
    sb.append("      const ").append(t).append("* x = in1 + row * ").append(ch).append(";\n");
    sb.append("      const ").append(t).append("* dy = in0 + row * ").append(ch).append(";\n");
    sb.append(rowStats(ch, eps).replace("\n    ", "\n      ").replaceFirst("^    ", "      "));
    sb.append("      double a = 0, b = 0;\n");
    sb.append("      for (int c = threadIdx.x; c < ").append(ch).append("; c += blockDim.x) {\n");
    sb.append("        const double g = (double)dy[c] * (double)in2[c];\n");
    sb.append("        a += g; b += g * ((double)x[c] - mean) * rstd;\n      }\n");
    sb.append("      const double gMean = k_block_sum(a, sh) / ").append(ch).append(".0, gxMean = k_block_sum(b, sh) / ")
        .append(ch).append(".0;\n");
    sb.append("      for (int c = threadIdx.x; c < ").append(ch).append("; c += blockDim.x) {\n");
    sb.append("        const double xhat = ((double)x[c] - mean) * rstd;\n");
    sb.append("        out0[row * ").append(ch).append(" + c] = (").append(t)
        .append(")(rstd * ((double)dy[c] * (double)in2[c] - gMean - xhat * gxMean));\n      }\n");
    sb.append("    } else {\n");
    sb.append("      const int c = (int)(o - ").append(rows).append("LL);\n");
    sb.append("      double a = 0, b = 0;\n");
    sb.append("      for (long long row = threadIdx.x; row < ").append(rows).append("LL; row += blockDim.x) {\n");
    sb.append("        const ").append(t).append("* x = in1 + row * ").append(ch).append(";\n");
    sb.append("        double s = 0;\n        for (int k = 0; k < ").append(ch).append("; k++) { s += (double)x[k]; }\n");
    sb.append("        const double mean = s / ").append(ch).append(".0;\n");
    sb.append("        s = 0;\n        for (int k = 0; k < ").append(ch).append("; k++) { const double v = (double)x[k] - mean; s += v * v; }\n");
    sb.append("        const double rstd = 1.0 / sqrt(s / ").append(ch).append(".0 + ").append(eps(eps)).append(");\n");
    sb.append("        const double g = (double)in0[row * ").append(ch).append(" + c];\n");
    sb.append("        a += g * ((double)x[c] - mean) * rstd; b += g;\n      }\n");
    sb.append("      const double dgamma = k_block_sum(a, sh), dbeta = k_block_sum(b, sh);\n");
    sb.append("      if (threadIdx.x == 0) { out1[c] = (").append(t).append(")dgamma; out2[c] = (").append(t).append(")dbeta; }\n");
    sb.append("    }\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(rows + ch, true, false));
  }
}
