package dev.kiln.runtime;

import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelFactory;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Runs one node's kernel through the SPI, the way a plan would: placeholders of concrete shapes stand
 * for the inputs, a KernelSpec binds frame slots, input and output arrays are longer than needed and
 * the outputs start out full of garbage, so a kernel that relies on array.length or skips elements
 * shows up. Each kernel runs twice on the same frame, and its inputs must come back unchanged.
 */
final class KernelHarness {
  private static final int SLACK = 3;

  final Graph graph = new Graph();
  final Ops tf = Ops.create(graph);
  private final Map<Output, Tensor> values = new HashMap<>();
  private int counter;

  /** A placeholder that will be fed {@code value}. */
  Output input(Tensor value) {
    Output p = tf.placeholder("in" + counter++, value.dtype(), value.shape());
    values.put(p, value);
    return p;
  }

  /** The value fed to a harness input. */
  Tensor valueOf(Output input) {
    return values.get(input);
  }

  /** Creates the kernel for {@code out}'s node and runs it on the fed values; returns all outputs. */
  List<Tensor> runAll(Operation op) {
    return runAll(op, Kernels.factory(op.type()));
  }

  /** As {@link #runAll(Operation)}, with the kernel from {@code factory}. */
  List<Tensor> runAll(Operation op, KernelFactory factory) {
    List<TensorType> inTypes = new ArrayList<>();
    for (Output in : op.inputs()) {
      inTypes.add(in.type());
    }
    int k = inTypes.size();
    int m = op.numOutputs();
    int[] inSlots = new int[k];
    int[] outSlots = new int[m];
    // Interleave unused slots so a kernel that reads the wrong slot fails.
    Object[] frame = new Object[2 * (k + m) + 1];
    for (int i = 0; i < k; i++) {
      inSlots[i] = 2 * i + 1;
    }
    for (int j = 0; j < m; j++) {
      outSlots[j] = 2 * (k + j) + 1;
    }
    Kernel kernel = factory.create(new KernelSpec(op, inTypes, op.outputTypes(), inSlots, outSlots));
    List<Object> originals = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      Tensor v = values.get(op.input(i));
      if (v == null) {
        throw new IllegalArgumentException("input " + i + " of " + op + " is not a harness input");
      }
      Object data = HostBuffers.array(v);
      Object padded = HostBuffers.allocate(v.dtype(), v.size() + SLACK);
      System.arraycopy(data, 0, padded, 0, v.size());
      frame[inSlots[i]] = padded;
      originals.add(copy(padded));
    }
    for (int j = 0; j < m; j++) {
      TensorType t = op.outputType(j);
      frame[outSlots[j]] = garbage(t.dtype(), (int) t.shape().numElements() + SLACK);
    }
    kernel.run(frame);
    List<Tensor> first = collect(op, frame, outSlots);
    kernel.run(frame);
    List<Tensor> second = collect(op, frame, outSlots);
    assertEquals(first, second, "a second run on the same frame gives the same result");
    for (int i = 0; i < k; i++) {
      assertTrue(Objects.deepEquals(originals.get(i), frame[inSlots[i]]), "input " + i + " unchanged");
    }
    return first;
  }

  Tensor run(Output out) {
    return runAll(out.op()).get(out.index());
  }

  private static List<Tensor> collect(Operation op, Object[] frame, int[] outSlots) {
    List<Tensor> out = new ArrayList<>();
    for (int j = 0; j < outSlots.length; j++) {
      TensorType t = op.outputType(j);
      int n = (int) t.shape().numElements();
      Object a = HostBuffers.allocate(t.dtype(), n);
      System.arraycopy(frame[outSlots[j]], 0, a, 0, n);
      out.add(HostBuffers.adopt(t.dtype(), t.shape(), a));
    }
    return out;
  }

  private static Object copy(Object array) {
    int n = Array.getLength(array);
    Object c = Array.newInstance(array.getClass().getComponentType(), n);
    System.arraycopy(array, 0, c, 0, n);
    return c;
  }

  static Object garbage(DType d, int n) {
    Object a = HostBuffers.allocate(d, n);
    switch (d.computeType()) {
      case FLOAT32 -> Arrays.fill((float[]) a, 12345.5f);
      case FLOAT64 -> Arrays.fill((double[]) a, -9876.25);
      case INT32 -> Arrays.fill((int[]) a, 0x5eed);
      case INT64 -> Arrays.fill((long[]) a, -0x5eedL);
      case BOOL -> Arrays.fill((boolean[]) a, true);
    }
    return a;
  }

  // ------------------------------------------------------------------------------ test data

  static Tensor randomF32(long seed, int... dims) {
    Random r = new Random(seed);
    float[] a = new float[Ref.size(dims)];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextGaussian() * 2);
    }
    return Tensor.of(a, dims);
  }

  static Tensor randomF64(long seed, int... dims) {
    Random r = new Random(seed);
    double[] a = new double[Ref.size(dims)];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextGaussian() * 2;
    }
    return Tensor.of(a, dims);
  }

  static Tensor randomI32(long seed, int bound, int... dims) {
    Random r = new Random(seed);
    int[] a = new int[Ref.size(dims)];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextInt(2 * bound + 1) - bound;
    }
    return Tensor.of(a, dims);
  }

  static Tensor randomI64(long seed, int bound, int... dims) {
    Random r = new Random(seed);
    long[] a = new long[Ref.size(dims)];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextInt(2 * bound + 1) - bound;
    }
    return Tensor.of(a, dims);
  }

  static Tensor randomBool(long seed, int... dims) {
    Random r = new Random(seed);
    boolean[] a = new boolean[Ref.size(dims)];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextBoolean();
    }
    return Tensor.of(a, dims);
  }

  static Tensor random(DType d, long seed, int... dims) {
    return switch (d) {
      case FLOAT32 -> randomF32(seed, dims);
      case FLOAT64 -> randomF64(seed, dims);
      case INT32 -> randomI32(seed, 9, dims);
      case INT64 -> randomI64(seed, 9, dims);
      case BOOL -> randomBool(seed, dims);
      case FLOAT16 -> Tensor.ofFloat16(randomF32(seed, dims).toFloatArray(), dims);
      case BFLOAT16 -> Tensor.ofBfloat16(randomF32(seed, dims).toFloatArray(), dims);
      case INT8, INT16 -> Tensor.ofNarrowInts(d, randomI32(seed, 9, dims).toIntArray(), dims);
      case UINT8 -> Tensor.ofNarrowInts(d, java.util.Arrays.stream(randomI32(seed, 9, dims).toIntArray())
          .map(Math::abs).toArray(), dims);
    };
  }

  static Shape shape(int... dims) {
    return Shape.of(dims);
  }
}
