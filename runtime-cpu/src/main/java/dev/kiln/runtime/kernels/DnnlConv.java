package dev.kiln.runtime.kernels;

import static dev.kiln.runtime.kernels.DnnlPrimitive.f32;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import dev.kiln.graph.ConvGeometry;
import dev.kiln.runtime.kernels.DnnlPrimitive.Port;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive_attr;

/**
 * A float32 convolution, or one of its backprops, as a oneDNN primitive ({@link DnnlPrimitive}):
 * Kiln's NHWC/NCHW activations and HWIO filters are described to oneDNN as they lie; the primitive
 * picks its own (blocked) filter layout and, for NCHW, activation layout. The forward may add a bias
 * and apply relu in the same pass.
 */
final class DnnlConv {
  private DnnlConv() {}

  /**
   * The primitive for {@code kind} over {@code g} (a forward with {@code bias} and {@code relu} fused
   * in), or empty where oneDNN is absent or declines the geometry (negative end padding, a layout it
   * has no implementation for); the caller then uses Kiln's own kernels. Its inputs are the kernel's
   * two in Kiln's order (input and filter, filter and output gradient, or input and output gradient),
   * then the forward's bias.
   */
  static Optional<DnnlPrimitive> create(ConvGeometry g, ConvKernels.Kind kind, boolean bias, boolean relu) {
    return create(g, kind, bias, relu, null);
  }

  /**
   * The forward with {@code filter}, a constant (a model's weights), reordered into oneDNN's layout
   * once: its inputs are the input, then the bias.
   */
  static Optional<DnnlPrimitive> withConstantFilter(ConvGeometry g, boolean bias, boolean relu, float[] filter) {
    return create(g, ConvKernels.Kind.FORWARD, bias, relu, filter);
  }

  private static Optional<DnnlPrimitive> create(ConvGeometry g, ConvKernels.Kind kind, boolean bias, boolean relu,
      float[] constantFilter) {
    if (!DnnlEngine.AVAILABLE || padBottom(g) < 0 || padRight(g) < 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(build(g, kind, bias, relu, constantFilter));
    } catch (RuntimeException e) {
      // oneDNN reports an unsupported configuration as an exception from the primitive descriptor.
      return Optional.empty();
    }
  }

  private static DnnlPrimitive build(ConvGeometry g, ConvKernels.Kind kind, boolean bias, boolean relu,
      float[] constantFilter) {
    memory.desc src = activation(g, g.inC(), g.inH(), g.inW(), memory.format_tag.nhwc);
    memory.desc dst = activation(g, g.outC(), g.outH(), g.outW(), memory.format_tag.nhwc);
    memory.desc srcAny = g.nchw() ? activation(g, g.inC(), g.inH(), g.inW(), memory.format_tag.any) : src;
    memory.desc dstAny = g.nchw() ? activation(g, g.outC(), g.outH(), g.outW(), memory.format_tag.any) : dst;
    memory.desc weights = weights(g, g.groups() == 1 ? memory.format_tag.hwio : memory.format_tag.hwigo);
    memory.desc weightsAny = weights(g, memory.format_tag.any);
    memory.desc biasDesc = f32(new long[] {g.outC()}, memory.format_tag.a);
    long[] strides = {g.strideH(), g.strideW()};
    long[] dilates = {g.dilH() - 1, g.dilW() - 1};
    long[] padL = {g.padTop(), g.padLeft()};
    long[] padR = {padBottom(g), padRight(g)};
    primitive_attr attr = DnnlPrimitive.attributes(relu);
    convolution_forward.primitive_desc fwd = bias
        ? new convolution_forward.primitive_desc(DnnlEngine.ENGINE, prop_kind.forward_training, algorithm.convolution_direct,
            srcAny, weightsAny, biasDesc, dstAny, strides, dilates, padL, padR, attr, false)
        : new convolution_forward.primitive_desc(DnnlEngine.ENGINE, prop_kind.forward_training, algorithm.convolution_direct,
            srcAny, weightsAny, dstAny, strides, dilates, padL, padR, attr, false);
    return switch (kind) {
      case FORWARD -> {
        Port filter = Port.of(DNNL_ARG_WEIGHTS, weights, fwd.weights_desc(), false);
        List<Port> in = new ArrayList<>(List.of(Port.of(DNNL_ARG_SRC, src, fwd.src_desc(), false)));
        if (constantFilter == null) {
          in.add(filter);
        }
        if (bias) {
          in.add(Port.of(DNNL_ARG_BIAS, biasDesc, fwd.bias_desc(), false));
        }
        Map<Integer, memory> constants = constantFilter == null ? Map.of()
            : Map.of(DNNL_ARG_WEIGHTS, DnnlPrimitive.constant(filter, constantFilter));
        yield new DnnlPrimitive(new convolution_forward(fwd), fwd, in, Port.of(DNNL_ARG_DST, dst, fwd.dst_desc(), true),
            constants);
      }
      case BACKPROP_INPUT -> {
        convolution_backward_data.primitive_desc pd = new convolution_backward_data.primitive_desc(DnnlEngine.ENGINE,
            algorithm.convolution_direct, srcAny, weightsAny, dstAny, strides, dilates, padL, padR, fwd,
            DnnlPrimitive.attributes(false), false);
        yield new DnnlPrimitive(new convolution_backward_data(pd), pd,
            List.of(Port.of(DNNL_ARG_WEIGHTS, weights, pd.weights_desc(), false),
                Port.of(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc(), false)),
            Port.of(DNNL_ARG_DIFF_SRC, src, pd.diff_src_desc(), true), Map.of());
      }
      case BACKPROP_FILTER -> {
        convolution_backward_weights.primitive_desc pd = new convolution_backward_weights.primitive_desc(
            DnnlEngine.ENGINE, algorithm.convolution_direct, srcAny, weightsAny, dstAny, strides, dilates, padL, padR,
            fwd, DnnlPrimitive.attributes(false), false);
        yield new DnnlPrimitive(new convolution_backward_weights(pd), pd,
            List.of(Port.of(DNNL_ARG_SRC, src, pd.src_desc(), false),
                Port.of(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc(), false)),
            Port.of(DNNL_ARG_DIFF_WEIGHTS, weights, pd.diff_weights_desc(), true), Map.of());
      }
    };
  }

  /** oneDNN's logical activation dims are always N, C, H, W; {@code nhwcTag} is the layout of an NHWC tensor. */
  private static memory.desc activation(ConvGeometry g, int c, int h, int w, memory.format_tag nhwcTag) {
    memory.format_tag tag = nhwcTag == memory.format_tag.any ? nhwcTag : g.nchw() ? memory.format_tag.nchw : nhwcTag;
    return f32(new long[] {g.batch(), c, h, w}, tag);
  }

  /** Kiln's filter [kh, kw, C/groups, K] is oneDNN's hwio, or hwigo over dims {G, K/G, C/G, kh, kw}. */
  private static memory.desc weights(ConvGeometry g, memory.format_tag tag) {
    long[] dims = g.groups() == 1
        ? new long[] {g.outC(), g.inC(), g.kh(), g.kw()}
        : new long[] {g.groups(), g.groupOutC(), g.groupInC(), g.kh(), g.kw()};
    return f32(dims, tag);
  }


  private static int padBottom(ConvGeometry g) {
    return (g.outH() - 1) * g.strideH() + g.effectiveKh() - g.inH() - g.padTop();
  }

  private static int padRight(ConvGeometry g) {
    return (g.outW() - 1) * g.strideW() + g.effectiveKw() - g.inW() - g.padLeft();
  }
}
