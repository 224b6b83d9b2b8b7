package dev.kiln.cuda;

import dev.kiln.graph.Attrs;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.List;

/**
 * CUDA C for the convolution family (Conv2D and its two gradients, FusedConv2D, MaxPool/AvgPool and
 * their gradients, BiasAdd), with the geometry ({@link ConvGeometry}) baked in. Direct kernels, no
 * cuDNN: one thread per output element for the forward convolution, the input gradient and pooling
 * (gathers, so no atomics and the same result every run); one block per filter element for the filter
 * gradient, whose reduction runs over the whole batch. Accumulation order follows the CPU kernels'
 * window walk where the CPU's is a plain loop (pooling), so results agree to rounding.
 */
final class CudaConvCodegen {
  private CudaConvCodegen() {}

  static final java.util.Set<String> TYPES = java.util.Set.of("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
      "FusedConv2D", "MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad", "BiasAdd");

  static CudaCodegen.KernelSource generate(Operation op, List<TensorType> in, List<TensorType> out) {
    Attrs a = op.attrs();
    return switch (op.type()) {
      case "Conv2D" -> conv(ConvGeometry.convolution(a, in.get(0).shape().dims(), in.get(1).shape().dims()), out.get(0),
          0, "none", 0);
      case "FusedConv2D" -> conv(ConvGeometry.convolution(a, in.get(0).shape().dims(), in.get(1).shape().dims()), out.get(0),
          in.size() - 2, a.find("activation").map(Object::toString).orElse("none"), a.getDouble("epsilon"));
      case "Conv2DBackpropInput" -> backpropInput(ConvGeometry.convolution(a, out.get(0).shape().dims(),
          in.get(0).shape().dims()), out.get(0));
      case "Conv2DBackpropFilter" -> backpropFilter(ConvGeometry.convolution(a, in.get(0).shape().dims(),
          out.get(0).shape().dims()), out.get(0));
      case "MaxPool", "AvgPool" -> pool(ConvGeometry.pooling(a, in.get(0).shape().dims()), op.type().equals("MaxPool"), out.get(0));
      case "MaxPoolGrad" -> maxPoolGrad(ConvGeometry.pooling(a, in.get(0).shape().dims()), out.get(0));
      case "AvgPoolGrad" -> avgPoolGrad(ConvGeometry.pooling(a, out.get(0).shape().dims()), out.get(0));
      case "BiasAdd" -> biasAdd(ConvGeometry.nchw(a), out.get(0));
      default -> throw new IllegalArgumentException(op.type() + " '" + op.name() + "': not a convolution op");
    };
  }

  // ------------------------------------------------------------------ layout

  /** The C offset of element (n, h, w, c) of an image tensor of H x W x C in the geometry's layout. */
  private static String at(boolean nchw, int hh, int ww, int cc, String n, String h, String w, String c) {
    return nchw
        ? "(((long long)(" + n + ") * " + cc + " + (" + c + ")) * " + hh + " + (" + h + ")) * " + ww + " + (" + w + ")"
        : "(((long long)(" + n + ") * " + hh + " + (" + h + ")) * " + ww + " + (" + w + ")) * " + cc + " + (" + c + ")";
  }

  /** Declares n, h, w, c of flat element i of an image tensor H x W x C in the layout. */
  private static String coords(boolean nchw, int hh, int ww, int cc, String h, String w, String c) {
    StringBuilder sb = new StringBuilder("    long long rest = i;\n");
    if (nchw) {
      sb.append("    const int ").append(w).append(" = (int)(rest % ").append(ww).append("); rest /= ").append(ww).append(";\n");
      sb.append("    const int ").append(h).append(" = (int)(rest % ").append(hh).append("); rest /= ").append(hh).append(";\n");
      sb.append("    const int ").append(c).append(" = (int)(rest % ").append(cc).append("); rest /= ").append(cc).append(";\n");
    } else {
      sb.append("    const int ").append(c).append(" = (int)(rest % ").append(cc).append("); rest /= ").append(cc).append(";\n");
      sb.append("    const int ").append(w).append(" = (int)(rest % ").append(ww).append("); rest /= ").append(ww).append(";\n");
      sb.append("    const int ").append(h).append(" = (int)(rest % ").append(hh).append("); rest /= ").append(hh).append(";\n");
    }
    sb.append("    const int n = (int)rest;\n");
    return sb.toString();
  }

  private static StringBuilder head(DType d, int inputs, String out) {
    String t = CudaTypes.c(d);
    StringBuilder sb = new StringBuilder(CudaTypes.PRELUDE);
    sb.append("extern \"C\" __global__ void ").append(CudaCodegen.ENTRY).append("(");
    for (int i = 0; i < inputs; i++) {
      sb.append("const ").append(t).append("* __restrict__ in").append(i).append(", ");
    }
    sb.append(t).append("* __restrict__ ").append(out).append(") {\n");
    return sb;
  }

  private static String gridLoop(long n) {
    return "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < " + n
        + "LL; i += (long long)gridDim.x * blockDim.x) {\n";
  }

  // ------------------------------------------------------------------ convolutions

  /**
   * Conv2D (epilogue inputs 0) or FusedConv2D: out[n,oh,ow,k] = sum over the window and the group's
   * input channels of x * filter, then + bias (1 epilogue input) or (y - mean) * scale / sqrt(var + eps)
   * + offset (4), then the activation.
   */
  static CudaCodegen.KernelSource conv(ConvGeometry g, TensorType out, int epilogueInputs, String activation, double eps) {
    DType d = out.dtype();
    String t = CudaTypes.c(d);
    long n = out.shape().numElements();
    StringBuilder sb = head(d, 2 + epilogueInputs, "out0");
    sb.append(gridLoop(n));
    sb.append(coords(g.nchw(), g.outH(), g.outW(), g.outC(), "oh", "ow", "k"));
    int gic = g.groupInC();
    sb.append("    const int c0 = (k / ").append(g.groupOutC()).append(") * ").append(gic).append(";\n");
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (int fi = 0; fi < ").append(g.kh()).append("; fi++) {\n");
    sb.append("      const int ih = oh * ").append(g.strideH()).append(" - ").append(g.padTop()).append(" + fi * ").append(g.dilH()).append(";\n");
    sb.append("      if (ih < 0 || ih >= ").append(g.inH()).append(") { continue; }\n");
    sb.append("      for (int fj = 0; fj < ").append(g.kw()).append("; fj++) {\n");
    sb.append("        const int iw = ow * ").append(g.strideW()).append(" - ").append(g.padLeft()).append(" + fj * ").append(g.dilW()).append(";\n");
    sb.append("        if (iw < 0 || iw >= ").append(g.inW()).append(") { continue; }\n");
    sb.append("        for (int ci = 0; ci < ").append(gic).append("; ci++) {\n");
    sb.append("          acc += in0[").append(at(g.nchw(), g.inH(), g.inW(), g.inC(), "n", "ih", "iw", "c0 + ci")).append("] * in1[(((long long)fi * ")
        .append(g.kw()).append(" + fj) * ").append(gic).append(" + ci) * ").append(g.outC()).append(" + k];\n");
    sb.append("        }\n      }\n    }\n");
    if (epilogueInputs == 1) {
      sb.append("    acc += in2[k];\n");
    } else if (epilogueInputs == 4) {
      // The CPU folds batch normalization into a per-channel a, b computed in double.
      sb.append("    const double a = (double)in2[k] / sqrt((double)in5[k] + ").append(CudaTypes.literal(DType.FLOAT64, eps)).append(");\n");
      sb.append("    const double b = (double)in3[k] - (double)in4[k] * a;\n");
      sb.append("    acc = acc * (").append(t).append(")a + (").append(t).append(")b;\n");
    }
    String v = Elementwise.activation(activation).map(p -> CudaCodegen.primitive(p, d, d, List.of("acc"))).orElse("acc");
    sb.append("    out0[i] = ").append(v).append(";\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /**
   * Conv2DBackpropInput (inputs filter, dy): dx[n,ih,iw,c] = sum over the filter taps whose output
   * position lands on the stride grid, and over the group's output channels, of dy * filter.
   */
  static CudaCodegen.KernelSource backpropInput(ConvGeometry g, TensorType out) {
    DType d = out.dtype();
    String t = CudaTypes.c(d);
    long n = out.shape().numElements();
    int gic = g.groupInC();
    int goc = g.groupOutC();
    StringBuilder sb = head(d, 2, "out0");
    sb.append(gridLoop(n));
    sb.append(coords(g.nchw(), g.inH(), g.inW(), g.inC(), "ih", "iw", "c"));
    sb.append("    const int ci = c % ").append(gic).append(", k0 = (c / ").append(gic).append(") * ").append(goc).append(";\n");
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (int fi = 0; fi < ").append(g.kh()).append("; fi++) {\n");
    sb.append("      const int th = ih + ").append(g.padTop()).append(" - fi * ").append(g.dilH()).append(";\n");
    sb.append("      if (th < 0 || th % ").append(g.strideH()).append(" != 0 || th / ").append(g.strideH()).append(" >= ")
        .append(g.outH()).append(") { continue; }\n");
    sb.append("      const int oh = th / ").append(g.strideH()).append(";\n");
    sb.append("      for (int fj = 0; fj < ").append(g.kw()).append("; fj++) {\n");
    sb.append("        const int tw = iw + ").append(g.padLeft()).append(" - fj * ").append(g.dilW()).append(";\n");
    sb.append("        if (tw < 0 || tw % ").append(g.strideW()).append(" != 0 || tw / ").append(g.strideW()).append(" >= ")
        .append(g.outW()).append(") { continue; }\n");
    sb.append("        const int ow = tw / ").append(g.strideW()).append(";\n");
    sb.append("        for (int kk = 0; kk < ").append(goc).append("; kk++) {\n");
    sb.append("          acc += in1[").append(at(g.nchw(), g.outH(), g.outW(), g.outC(), "n", "oh", "ow", "k0 + kk"))
        .append("] * in0[(((long long)fi * ").append(g.kw()).append(" + fj) * ").append(gic).append(" + ci) * ")
        .append(g.outC()).append(" + k0 + kk];\n");
    sb.append("        }\n      }\n    }\n");
    sb.append("    out0[i] = acc;\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /**
   * Conv2DBackpropFilter (inputs x, dy): df[fi,fj,ci,k] = sum over images and output positions of
   * x * dy, one block per filter element (a tree in shared memory; float sums in double).
   */
  static CudaCodegen.KernelSource backpropFilter(ConvGeometry g, TensorType out) {
    DType d = out.dtype();
    String t = CudaTypes.c(d);
    long filters = out.shape().numElements();
    long reduced = (long) g.batch() * g.outH() * g.outW();
    int gic = g.groupInC();
    StringBuilder sb = head(d, 2, "out0");
    sb.append("  __shared__ double sh[").append(Launch.BLOCK).append("];\n");
    sb.append("  for (long long o = blockIdx.x; o < ").append(filters).append("LL; o += gridDim.x) {\n");
    sb.append("    const int k = (int)(o % ").append(g.outC()).append("), ci = (int)((o / ").append(g.outC()).append(") % ").append(gic)
        .append("), fj = (int)((o / ").append((long) g.outC() * gic).append(") % ").append(g.kw()).append("), fi = (int)(o / ")
        .append((long) g.outC() * gic * g.kw()).append(");\n");
    sb.append("    const int c = (k / ").append(g.groupOutC()).append(") * ").append(gic).append(" + ci;\n");
    sb.append("    double acc = 0;\n");
    sb.append("    for (long long r = threadIdx.x; r < ").append(reduced).append("LL; r += blockDim.x) {\n");
    sb.append("      const int ow = (int)(r % ").append(g.outW()).append("), oh = (int)((r / ").append(g.outW()).append(") % ")
        .append(g.outH()).append("), n = (int)(r / ").append((long) g.outW() * g.outH()).append(");\n");
    sb.append("      const int ih = oh * ").append(g.strideH()).append(" - ").append(g.padTop()).append(" + fi * ").append(g.dilH()).append(";\n");
    sb.append("      const int iw = ow * ").append(g.strideW()).append(" - ").append(g.padLeft()).append(" + fj * ").append(g.dilW()).append(";\n");
    sb.append("      if (ih >= 0 && ih < ").append(g.inH()).append(" && iw >= 0 && iw < ").append(g.inW()).append(") {\n");
    sb.append("        acc += (double)in0[").append(at(g.nchw(), g.inH(), g.inW(), g.inC(), "n", "ih", "iw", "c"))
        .append("] * (double)in1[").append(at(g.nchw(), g.outH(), g.outW(), g.outC(), "n", "oh", "ow", "k")).append("];\n");
    sb.append("      }\n    }\n");
    sb.append(CudaCodegen.blockTree("sh", "acc", "sh[threadIdx.x] + sh[threadIdx.x + s]"));
    sb.append("    if (threadIdx.x == 0) { out0[o] = (").append(t).append(")sh[0]; }\n");
    sb.append("    __syncthreads();\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(filters, true, false));
  }

  // ------------------------------------------------------------------ pooling

  /** The window of output (oh, ow) clipped to the input: rows [i0, i1), columns [j0, j1) of the window. */
  private static String window(ConvGeometry g) {
    return "    const int ih0 = oh * " + g.strideH() + " - " + g.padTop() + ", iw0 = ow * " + g.strideW() + " - " + g.padLeft() + ";\n"
        + "    const int i0 = ih0 < 0 ? -ih0 : 0, j0 = iw0 < 0 ? -iw0 : 0;\n"
        + "    const int i1 = " + g.kh() + " < " + g.inH() + " - ih0 ? " + g.kh() + " : " + g.inH() + " - ih0;\n"
        + "    const int j1 = " + g.kw() + " < " + g.inW() + " - iw0 ? " + g.kw() + " : " + g.inW() + " - iw0;\n";
  }

  /** MaxPool (NaN propagates, as Math.max) or AvgPool (divided by the window's valid elements, as TF's SAME). */
  static CudaCodegen.KernelSource pool(ConvGeometry g, boolean max, TensorType out) {
    DType d = out.dtype();
    String t = CudaTypes.c(d);
    long n = out.shape().numElements();
    StringBuilder sb = head(d, 1, "out0");
    sb.append(gridLoop(n));
    sb.append(coords(g.nchw(), g.outH(), g.outW(), g.outC(), "oh", "ow", "c"));
    sb.append(window(g));
    sb.append("    ").append(t).append(" acc = ").append(max ? "-INFINITY" : "0").append(";\n");
    sb.append("    for (int a = i0; a < i1; a++) {\n      for (int b = j0; b < j1; b++) {\n");
    String x = "in0[" + at(g.nchw(), g.inH(), g.inW(), g.inC(), "n", "ih0 + a", "iw0 + b", "c") + "]";
    sb.append(max ? "        acc = k_max(acc, " + x + ");\n" : "        acc += " + x + ";\n");
    sb.append("      }\n    }\n");
    if (!max) {
      sb.append("    acc *= (").append(t).append(")(1.0 / (double)((i1 - i0) * (j1 - j0)));\n");
    }
    sb.append("    out0[i] = acc;\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /**
   * The outputs whose window holds input (ih, iw): oh in [ohLo, ohHi], ow likewise, each a C
   * declaration (windows overlap when the stride is smaller than the window).
   */
  private static String covering(ConvGeometry g) {
    return "    const int ohLo = ih + " + g.padTop() + " - " + (g.kh() - 1) + " <= 0 ? 0 : (ih + " + g.padTop() + " - "
        + (g.kh() - 1) + " + " + (g.strideH() - 1) + ") / " + g.strideH() + ";\n"
        + "    const int ohHi0 = (ih + " + g.padTop() + ") / " + g.strideH() + ";\n"
        + "    const int ohHi = ohHi0 < " + (g.outH() - 1) + " ? ohHi0 : " + (g.outH() - 1) + ";\n"
        + "    const int owLo = iw + " + g.padLeft() + " - " + (g.kw() - 1) + " <= 0 ? 0 : (iw + " + g.padLeft() + " - "
        + (g.kw() - 1) + " + " + (g.strideW() - 1) + ") / " + g.strideW() + ";\n"
        + "    const int owHi0 = (iw + " + g.padLeft() + ") / " + g.strideW() + ";\n"
        + "    const int owHi = owHi0 < " + (g.outW() - 1) + " ? owHi0 : " + (g.outW() - 1) + ";\n";
  }

  /**
   * MaxPoolGrad (inputs x, y, dy): dx[n,ih,iw,c] sums dy over the windows whose first maximum (the
   * CPU's choice: the first element that is greater, or the first NaN) is this element: a gather over
   * the covering windows instead of the CPU's scatter.
   */
  static CudaCodegen.KernelSource maxPoolGrad(ConvGeometry g, TensorType out) {
    DType d = out.dtype();
    String t = CudaTypes.c(d);
    long n = out.shape().numElements();
    StringBuilder sb = head(d, 3, "out0");
    sb.append(gridLoop(n));
    sb.append(coords(g.nchw(), g.inH(), g.inW(), g.inC(), "ih", "iw", "c"));
    sb.append(covering(g));
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (int oh = ohLo; oh <= ohHi; oh++) {\n      for (int ow = owLo; ow <= owHi; ow++) {\n");
    sb.append(window(g).replace("    ", "        "));
    sb.append("        ").append(t).append(" best = 0; int bi = -1, bj = -1;\n");
    sb.append("        for (int a = i0; a < i1; a++) {\n          for (int b = j0; b < j1; b++) {\n");
    sb.append("            const ").append(t).append(" v = in0[").append(at(g.nchw(), g.inH(), g.inW(), g.inC(), "n", "ih0 + a", "iw0 + b", "c"))
        .append("];\n");
    sb.append("            if (bi < 0 || v > best || (k_isnan(v) && !k_isnan(best))) { best = v; bi = a; bj = b; }\n");
    sb.append("          }\n        }\n");
    sb.append("        if (ih0 + bi == ih && iw0 + bj == iw) { acc += in2[")
        .append(at(g.nchw(), g.outH(), g.outW(), g.outC(), "n", "oh", "ow", "c")).append("]; }\n");
    sb.append("      }\n    }\n");
    sb.append("    out0[i] = acc;\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  /** AvgPoolGrad (input dy): dx sums dy / (valid elements of the window) over the covering windows. */
  static CudaCodegen.KernelSource avgPoolGrad(ConvGeometry g, TensorType out) {
    DType d = out.dtype();
    String t = CudaTypes.c(d);
    long n = out.shape().numElements();
    StringBuilder sb = head(d, 1, "out0");
    sb.append(gridLoop(n));
    sb.append(coords(g.nchw(), g.inH(), g.inW(), g.inC(), "ih", "iw", "c"));
    sb.append(covering(g));
    sb.append("    ").append(t).append(" acc = 0;\n");
    sb.append("    for (int oh = ohLo; oh <= ohHi; oh++) {\n      for (int ow = owLo; ow <= owHi; ow++) {\n");
    sb.append(window(g).replace("    ", "        "));
    sb.append("        acc += in0[").append(at(g.nchw(), g.outH(), g.outW(), g.outC(), "n", "oh", "ow", "c"))
        .append("] * (").append(t).append(")(1.0 / (double)((i1 - i0) * (j1 - j0)));\n");
    sb.append("      }\n    }\n");
    sb.append("    out0[i] = acc;\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }

  // ------------------------------------------------------------------ bias

  /** BiasAdd: value + bias along the channel axis (last for NHWC, 1 for NCHW). */
  static CudaCodegen.KernelSource biasAdd(boolean nchw, TensorType out) {
    int[] dims = out.shape().dims();
    int channels = dims[nchw ? 1 : dims.length - 1];
    long inner = 1;
    if (nchw) {
      for (int i = 2; i < dims.length; i++) {
        inner *= dims[i];
      }
    }
    long n = out.shape().numElements();
    StringBuilder sb = head(out.dtype(), 2, "out0");
    sb.append(gridLoop(n));
    sb.append("    out0[i] = in0[i] + in1[(i / ").append(inner).append("LL) % ").append(channels).append("LL];\n  }\n}\n");
    return new CudaCodegen.KernelSource(sb.toString(), new Launch(n, false, false));
  }
}
