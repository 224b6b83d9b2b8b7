package dev.kiln.runtime.kernels;

import static dev.kiln.runtime.kernels.DnnlPrimitive.f32;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import dev.kiln.graph.DType;
import dev.kiln.runtime.kernels.DnnlPrimitive.Port;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.dnnl.matmul;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;

/**
 * Float32 products {@code a b} whose {@code b} is a constant of the plan (an imported model's weights),
 * on oneDNN's matmul with {@code b} reordered once, when the kernel is made, into the blocked layout
 * its kernels read, as ONNX Runtime packs constant weights. A BLAS call packs {@code b} again on every
 * call, and a one-row product reads it in a layout no faster than memory allows. A run that feeds the
 * constant's node a value of its own runs the kernel it would otherwise have had.
 */
public final class DnnlMatMul {
  private DnnlMatMul() {}

  /** Weights (k n) from which a constant operand goes to oneDNN; smaller ones cost more to call than to multiply. */
  static final long MIN_WEIGHTS = 1 << 16;

  /**
   * The kernel of {@code spec} (a MatMul, or a FusedMatMul adding input 2 as a bias and applying relu
   * when {@code relu}) on oneDNN, falling back to {@code otherwise} in a run where input 1 is not the
   * constant; empty when input 1 is not a float32 constant, {@code a} is transposed, the weights are
   * fewer than {@link #MIN_WEIGHTS}, or oneDNN is absent or declines.
   */
  public static Optional<Kernel> create(KernelSpec spec, boolean bias, boolean relu, Kernel otherwise) {
    Optional<Object> constant = KernelSupport.constantArray(spec, 1);
    // oneDNN is loaded (DnnlEngine) only once a product qualifies: a training graph's products never load it.
    if (constant.isEmpty() || KernelSupport.inDType(spec, 1) != DType.FLOAT32
        || KernelSupport.inDType(spec, 0) != DType.FLOAT32 || spec.op().attrs().getBool("transpose_a", false)) {
      return Optional.empty();
    }
    boolean tb = spec.op().attrs().getBool("transpose_b", false);
    int[] a = KernelSupport.inDims(spec, 0);
    int[] b = KernelSupport.inDims(spec, 1);
    if (a.length != 2 || b.length != 2) {
      return Optional.empty();
    }
    long m = a[0];
    long k = a[1];
    long n = tb ? b[0] : b[1];
    if (k * n < MIN_WEIGHTS || m == 0 || !DnnlEngine.AVAILABLE) {
      return Optional.empty();
    }
    Object weights = constant.get();
    DnnlPrimitive product;
    try {
      product = build(m, k, n, tb, bias, relu, (float[]) weights);
    } catch (RuntimeException e) {
      // oneDNN reports an unsupported configuration as an exception from the primitive descriptor.
      return Optional.empty();
    }
    int sa = spec.inputSlots()[0];
    int sb = spec.inputSlots()[1];
    int sc = spec.outputSlots()[0];
    if (bias) {
      int sBias = spec.inputSlots()[2];
      return Optional.of(frame -> {
        if (frame[sb] == weights) {
          product.run((float[]) frame[sc], (float[]) frame[sa], (float[]) frame[sBias]);
        } else {
          otherwise.run(frame);
        }
      });
    }
    return Optional.of(frame -> {
      if (frame[sb] == weights) {
        product.run((float[]) frame[sc], (float[]) frame[sa]);
      } else {
        otherwise.run(frame);
      }
    });
  }

  private static DnnlPrimitive build(long m, long k, long n, boolean tb, boolean bias, boolean relu, float[] weights) {
    memory.desc src = f32(new long[] {m, k}, memory.format_tag.ab);
    memory.desc wUser = f32(new long[] {k, n}, tb ? memory.format_tag.ba : memory.format_tag.ab);
    memory.desc wAny = f32(new long[] {k, n}, memory.format_tag.any);
    memory.desc biasDesc = f32(new long[] {1, n}, memory.format_tag.ab);
    memory.desc dst = f32(new long[] {m, n}, memory.format_tag.ab);
    primitive_attr attr = DnnlPrimitive.attributes(relu);
    matmul.primitive_desc pd = bias
        ? new matmul.primitive_desc(DnnlEngine.ENGINE, src, wAny, biasDesc, dst, attr, false)
        : new matmul.primitive_desc(DnnlEngine.ENGINE, src, wAny, dst, attr, false);
    memory packed = DnnlPrimitive.constant(Port.of(DNNL_ARG_WEIGHTS, wUser, pd.weights_desc(), false), weights);
    List<Port> in = new ArrayList<>(List.of(Port.of(DNNL_ARG_SRC, src, pd.src_desc(), false)));
    if (bias) {
      in.add(Port.of(DNNL_ARG_BIAS, biasDesc, pd.bias_desc(), false));
    }
    return new DnnlPrimitive(new matmul(pd), pd, in, Port.of(DNNL_ARG_DST, dst, pd.dst_desc(), true),
        Map.of(DNNL_ARG_WEIGHTS, packed));
  }

}
