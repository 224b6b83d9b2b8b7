package dev.kiln.runtime.kernels;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import dev.kiln.graph.ConvGeometry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.global.dnnl.scratchpad_mode;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A float32 convolution, or one of its backprops, as a oneDNN primitive: Kiln's NHWC/NCHW activations
 * and HWIO filters are described to oneDNN as they lie, the primitive picks its own (blocked) filter
 * layout and, for NCHW, activation layout, and reorders convert between them around each call. Kiln's
 * tensors are Java arrays, which native code cannot hold on to, so each call copies its operands into
 * native buffers and its result back. The forward may add a bias and apply relu in the same pass.
 */
final class DnnlConv {
  private final primitive primitive;
  private final primitive_desc_base desc;
  /** Operands, in the order {@link #run} takes them; the last is the result. */
  private final List<Port> ports;
  private final ScratchPool<Buffers> buffers;

  /** Floats from which an operand's copy is split over the cores. */
  static final int COPY_SPLIT = 1 << 18;

  /** One operand: its layout in Kiln's array, the primitive's layout, and the reorder between them. */
  private record Port(int arg, memory.desc user, memory.desc prim, reorder convert, boolean output, int elements) {}

  /** The native buffers of one call at a time (a pool holds one per concurrent run). */
  private static final class Buffers {
    final stream stream = new stream(DnnlEngine.ENGINE);
    final memory[] user;
    final memory[] prim;
    /** Per operand, its native buffer cut into one piece per copying core ({@link #pieces}). */
    final FloatPointer[][] data;
    final IntMemoryMap args = new IntMemoryMap();

    Buffers(List<Port> ports, memory.desc scratchpad) {
      int n = ports.size();
      user = new memory[n];
      prim = new memory[n];
      data = new FloatPointer[n][];
      for (int i = 0; i < n; i++) {
        Port p = ports.get(i);
        user[i] = new memory(p.user(), DnnlEngine.ENGINE);
        prim[i] = p.convert() == null ? user[i] : new memory(p.prim(), DnnlEngine.ENGINE);
        data[i] = new FloatPointer[pieces(p.elements())];
        for (int j = 0; j < data[i].length; j++) {
          data[i][j] = new FloatPointer(user[i].get_data_handle());
          data[i][j].position(pieceStart(p.elements(), data[i].length, j));
        }
        args.put(p.arg(), prim[i]);
      }
      args.put(DNNL_ARG_SCRATCHPAD, new memory(scratchpad, DnnlEngine.ENGINE));
    }
  }

  private DnnlConv(primitive primitive, primitive_desc_base desc, List<Port> ports) {
    this.primitive = primitive;
    this.desc = desc;
    this.ports = ports;
    memory.desc scratchpad = desc.scratchpad_desc();
    this.buffers = new ScratchPool<>(() -> new Buffers(ports, scratchpad));
  }

  /**
   * The primitive for {@code kind} over {@code g} (a forward with {@code bias} and {@code relu} fused
   * in), or empty where oneDNN is absent or declines the geometry (negative end padding, a layout it
   * has no implementation for); the caller then uses Kiln's own kernels.
   */
  static Optional<DnnlConv> create(ConvGeometry g, ConvKernels.Kind kind, boolean bias, boolean relu) {
    if (!DnnlEngine.AVAILABLE || padBottom(g) < 0 || padRight(g) < 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(build(g, kind, bias, relu));
    } catch (RuntimeException e) {
      // oneDNN reports an unsupported configuration as an exception from the primitive descriptor.
      return Optional.empty();
    }
  }

  /**
   * Runs the primitive: {@code a} and {@code b} are the kernel's two inputs in Kiln's order (input and
   * filter, filter and output gradient, or input and output gradient), {@code bias} the forward's bias
   * (or null), {@code out} the result.
   */
  void run(float[] a, float[] b, float[] bias, float[] out) {
    Buffers buf = buffers.take();
    try {
      copyIn(buf, 0, a);
      copyIn(buf, 1, b);
      if (bias != null) {
        copyIn(buf, 2, bias);
      }
      primitive.execute(buf.stream, buf.args);
      int o = ports.size() - 1;
      Port result = ports.get(o);
      if (result.convert() != null) {
        result.convert().execute(buf.stream, buf.prim[o], buf.user[o]);
      }
      buf.stream._wait();
      copy(buf.data[o], out, result.elements(), false);
    } finally {
      buffers.give(buf);
    }
  }

  /** Copies between an array and a native buffer cut into pieces, one core per piece. */
  private static void copy(FloatPointer[] pieces, float[] array, int elements, boolean intoNative) {
    Parallel.split(pieces.length, pieces.length, (lo, hi) -> {
      for (int j = lo; j < hi; j++) {
        int from = pieceStart(elements, pieces.length, j);
        int len = pieceStart(elements, pieces.length, j + 1) - from;
        if (intoNative) {
          pieces[j].put(array, from, len);
        } else {
          pieces[j].get(array, from, len);
        }
      }
    });
  }

  private static int pieces(int elements) {
    return elements >= COPY_SPLIT ? Parallel.THREADS : 1;
  }

  private static int pieceStart(int elements, int pieces, int j) {
    return (int) ((long) elements * j / pieces);
  }

  /** oneDNN's name for the implementation it chose (e.g. {@code brg_conv_fwd:avx512_core}). */
  String implementation() {
    return desc.impl_info_str().getString();
  }

  private void copyIn(Buffers buf, int i, float[] values) {
    Port p = ports.get(i);
    copy(buf.data[i], values, p.elements(), true);
    if (p.convert() != null) {
      p.convert().execute(buf.stream, buf.user[i], buf.prim[i]);
    }
  }

  private static DnnlConv build(ConvGeometry g, ConvKernels.Kind kind, boolean bias, boolean relu) {
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
    primitive_attr attr = new primitive_attr();
    attr.set_scratchpad_mode(scratchpad_mode.user);
    if (relu) {
      post_ops ops = new post_ops();
      ops.append_eltwise(algorithm.eltwise_relu, 0f, 0f);
      attr.set_post_ops(ops);
    }
    convolution_forward.primitive_desc fwd = bias
        ? new convolution_forward.primitive_desc(DnnlEngine.ENGINE, prop_kind.forward_training, algorithm.convolution_direct,
            srcAny, weightsAny, biasDesc, dstAny, strides, dilates, padL, padR, attr, false)
        : new convolution_forward.primitive_desc(DnnlEngine.ENGINE, prop_kind.forward_training, algorithm.convolution_direct,
            srcAny, weightsAny, dstAny, strides, dilates, padL, padR, attr, false);
    List<Port> ports = new ArrayList<>();
    switch (kind) {
      case FORWARD -> {
        ports.add(in(DNNL_ARG_SRC, src, fwd.src_desc()));
        ports.add(in(DNNL_ARG_WEIGHTS, weights, fwd.weights_desc()));
        if (bias) {
          ports.add(in(DNNL_ARG_BIAS, biasDesc, fwd.bias_desc()));
        }
        ports.add(out(DNNL_ARG_DST, dst, fwd.dst_desc()));
        return new DnnlConv(new convolution_forward(fwd), fwd, ports);
      }
      case BACKPROP_INPUT -> {
        primitive_attr plain = scratchpadAttr();
        convolution_backward_data.primitive_desc pd = new convolution_backward_data.primitive_desc(DnnlEngine.ENGINE,
            algorithm.convolution_direct, srcAny, weightsAny, dstAny, strides, dilates, padL, padR, fwd, plain, false);
        ports.add(in(DNNL_ARG_WEIGHTS, weights, pd.weights_desc()));
        ports.add(in(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc()));
        ports.add(out(DNNL_ARG_DIFF_SRC, src, pd.diff_src_desc()));
        return new DnnlConv(new convolution_backward_data(pd), pd, ports);
      }
      case BACKPROP_FILTER -> {
        primitive_attr plain = scratchpadAttr();
        convolution_backward_weights.primitive_desc pd = new convolution_backward_weights.primitive_desc(DnnlEngine.ENGINE,
            algorithm.convolution_direct, srcAny, weightsAny, dstAny, strides, dilates, padL, padR, fwd, plain, false);
        ports.add(in(DNNL_ARG_SRC, src, pd.src_desc()));
        ports.add(in(DNNL_ARG_DIFF_DST, dst, pd.diff_dst_desc()));
        ports.add(out(DNNL_ARG_DIFF_WEIGHTS, weights, pd.diff_weights_desc()));
        return new DnnlConv(new convolution_backward_weights(pd), pd, ports);
      }
      default -> throw new AssertionError(kind);
    }
  }

  private static primitive_attr scratchpadAttr() {
    primitive_attr attr = new primitive_attr();
    attr.set_scratchpad_mode(scratchpad_mode.user);
    return attr;
  }

  private static Port in(int arg, memory.desc user, memory.desc prim) {
    return port(arg, user, prim, false);
  }

  private static Port out(int arg, memory.desc user, memory.desc prim) {
    return port(arg, user, prim, true);
  }

  private static Port port(int arg, memory.desc user, memory.desc prim, boolean output) {
    reorder convert = null;
    if (!user.equals(prim)) {
      memory from = new memory(output ? prim : user, DnnlEngine.ENGINE);
      memory to = new memory(output ? user : prim, DnnlEngine.ENGINE);
      convert = new reorder(from, to);
    }
    return new Port(arg, user, convert == null ? user : prim, convert, output, Math.toIntExact(user.get_size() / Float.BYTES));
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

  private static memory.desc f32(long[] dims, memory.format_tag tag) {
    return new memory.desc(dims, memory.data_type.f32, tag);
  }

  private static int padBottom(ConvGeometry g) {
    return (g.outH() - 1) * g.strideH() + g.effectiveKh() - g.inH() - g.padTop();
  }

  private static int padRight(ConvGeometry g) {
    return (g.outW() - 1) * g.strideW() + g.effectiveKw() - g.inW() - g.padLeft();
  }
}
