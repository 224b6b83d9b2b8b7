package dev.kiln.runtime.kernels;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCRATCHPAD;

import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.dnnl.global.dnnl.scratchpad_mode;

/**
 * A float32 oneDNN primitive run on Kiln's arrays. Native code cannot hold on to a Java array, so each
 * call copies its operands into native buffers (described to oneDNN as Kiln lays them out), reorders
 * those whose layout the primitive chose differently, runs it, and copies the result back. Constant
 * operands (a model's weights) are reordered once, when the kernel is made.
 */
final class DnnlPrimitive {
  /** Floats from which an operand's copy is split over the cores. */
  static final int COPY_SPLIT = 1 << 18;

  /** One operand: its layout in Kiln's array, the primitive's layout, and the reorder between them (or null). */
  record Port(int arg, memory.desc user, memory.desc prim, reorder convert, int elements) {
    /** The operand {@code arg}, laid out as {@code user} in Kiln's array and as {@code prim} for the primitive. */
    static Port of(int arg, memory.desc user, memory.desc prim, boolean output) {
      reorder convert = null;
      if (!user.equals(prim)) {
        memory from = new memory(output ? prim : user, DnnlEngine.ENGINE);
        memory to = new memory(output ? user : prim, DnnlEngine.ENGINE);
        convert = new reorder(from, to);
      }
      return new Port(arg, user, convert == null ? user : prim, convert, Math.toIntExact(user.get_size() / Float.BYTES));
    }
  }

  private final primitive primitive;
  private final primitive_desc_base desc;
  /** Operands copied in on every call, in the order {@link #run} takes them. */
  private final List<Port> inputs;
  private final Port output;
  private final ScratchPool<Buffers> buffers;

  /** The native buffers of one call at a time (a pool holds one per concurrent run). */
  private static final class Buffers {
    final stream stream = new stream(DnnlEngine.ENGINE);
    final memory[] user;
    final memory[] prim;
    /** Per operand (the inputs, then the output), its native buffer cut into one piece per copying core. */
    final FloatPointer[][] data;
    final IntMemoryMap args = new IntMemoryMap();

    Buffers(List<Port> inputs, Port output, Map<Integer, memory> constants, memory.desc scratchpad) {
      int n = inputs.size() + 1;
      user = new memory[n];
      prim = new memory[n];
      data = new FloatPointer[n][];
      for (int i = 0; i < n; i++) {
        Port p = i < inputs.size() ? inputs.get(i) : output;
        user[i] = new memory(p.user(), DnnlEngine.ENGINE);
        prim[i] = p.convert() == null ? user[i] : new memory(p.prim(), DnnlEngine.ENGINE);
        data[i] = new FloatPointer[p.elements() >= COPY_SPLIT ? Parallel.THREADS : 1];
        for (int j = 0; j < data[i].length; j++) {
          data[i][j] = new FloatPointer(user[i].get_data_handle());
          data[i][j].position(pieceStart(p.elements(), data[i].length, j));
        }
        args.put(p.arg(), prim[i]);
      }
      constants.forEach(args::put);
      args.put(DNNL_ARG_SCRATCHPAD, new memory(scratchpad, DnnlEngine.ENGINE));
    }
  }

  DnnlPrimitive(primitive primitive, primitive_desc_base desc, List<Port> inputs, Port output, Map<Integer, memory> constants) {
    this.primitive = primitive;
    this.desc = desc;
    this.inputs = List.copyOf(inputs);
    this.output = output;
    memory.desc scratchpad = desc.scratchpad_desc();
    this.buffers = new ScratchPool<>(() -> new Buffers(this.inputs, output, constants, scratchpad));
  }

  /**
   * Attributes with a scratchpad of each call's own (so concurrent runs share nothing mutable), and
   * relu applied to the result in the primitive's own pass when {@code relu}.
   */
  static primitive_attr attributes(boolean relu) {
    primitive_attr attr = new primitive_attr();
    attr.set_scratchpad_mode(scratchpad_mode.user);
    if (relu) {
      post_ops ops = new post_ops();
      ops.append_eltwise(algorithm.eltwise_relu, 0f, 0f);
      attr.set_post_ops(ops);
    }
    return attr;
  }

  /** A float32 operand of {@code dims} in layout {@code tag}. */
  static memory.desc f32(long[] dims, memory.format_tag tag) {
    return new memory.desc(dims, memory.data_type.f32, tag);
  }

  /** A native copy of {@code values} in the layout {@code port} gives the primitive, made once. */
  static memory constant(Port port, float[] values) {
    memory user = new memory(port.user(), DnnlEngine.ENGINE);
    new FloatPointer(user.get_data_handle()).put(values, 0, port.elements());
    if (port.convert() == null) {
      return user;
    }
    memory prim = new memory(port.prim(), DnnlEngine.ENGINE);
    stream s = new stream(DnnlEngine.ENGINE);
    port.convert().execute(s, user, prim);
    s._wait();
    return prim;
  }

  /** Runs the primitive on {@code in} (one array per input port, in order) into {@code out}. */
  void run(float[] out, float[]... in) {
    Buffers buf = buffers.take();
    try {
      for (int i = 0; i < in.length; i++) {
        Port p = inputs.get(i);
        copy(buf.data[i], in[i], p.elements(), true);
        if (p.convert() != null) {
          p.convert().execute(buf.stream, buf.user[i], buf.prim[i]);
        }
      }
      primitive.execute(buf.stream, buf.args);
      int o = inputs.size();
      if (output.convert() != null) {
        output.convert().execute(buf.stream, buf.prim[o], buf.user[o]);
      }
      buf.stream._wait();
      copy(buf.data[o], out, output.elements(), false);
    } finally {
      buffers.give(buf);
    }
  }

  /** oneDNN's name for the implementation it chose (e.g. {@code brg_conv_fwd:avx512_core}). */
  String implementation() {
    return desc.impl_info_str().getString();
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

  private static int pieceStart(int elements, int pieces, int j) {
    return (int) ((long) elements * j / pieces);
  }
}
