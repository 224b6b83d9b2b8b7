package dev.kiln.runtime.kernels;

import dev.kiln.runtime.HostKernel;

import dev.kiln.graph.Attrs;
import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a {@link HostKernel} as a plan kernel: inputs are wrapped without copying when their slot's
 * array has exactly the element count (copied otherwise), outputs are checked against the inferred
 * types and copied into the output slots.
 */
final class HostKernelAdapter implements Kernel {
  private final HostKernel kernel;
  private final Attrs attrs;
  private final String where;
  private final List<TensorType> inTypes;
  private final List<TensorType> outTypes;
  private final int[] inSlots;
  private final int[] outSlots;

  HostKernelAdapter(KernelSpec spec, HostKernel kernel) {
    this.kernel = kernel;
    this.attrs = spec.op().attrs();
    this.where = spec.op().type() + " '" + spec.op().name() + "': ";
    this.inTypes = List.copyOf(spec.inputs());
    this.outTypes = List.copyOf(spec.outputs());
    this.inSlots = spec.inputSlots().clone();
    this.outSlots = spec.outputSlots().clone();
  }

  @Override
  public void run(Object[] frame) {
    List<Tensor> inputs = new ArrayList<>(inSlots.length);
    for (int i = 0; i < inSlots.length; i++) {
      DType d = inTypes.get(i).dtype();
      Shape s = inTypes.get(i).shape();
      int n = KernelSupport.size(inTypes.get(i));
      Object array = frame[inSlots[i]];
      if (Array.getLength(array) != n) {
        Object exact = HostBuffers.allocate(d, n);
        System.arraycopy(array, 0, exact, 0, n);
        array = exact;
      }
      inputs.add(HostBuffers.adopt(d, s, array));
    }
    List<Tensor> outputs;
    try {
      outputs = kernel.compute(List.copyOf(inputs), attrs);
    } catch (RuntimeException e) {
      throw new IllegalStateException(where + "CPU kernel failed: " + e, e);
    }
    if (outputs == null || outputs.size() != outTypes.size()) {
      throw new IllegalStateException(where + "CPU kernel returned "
          + (outputs == null ? "null" : outputs.size() + " outputs") + ", expected " + outTypes.size());
    }
    for (int i = 0; i < outTypes.size(); i++) {
      Tensor t = outputs.get(i);
      if (t == null || !t.type().equals(outTypes.get(i))) {
        throw new IllegalStateException(where + "CPU kernel returned " + (t == null ? "null" : t.type())
            + " for output " + i + ", expected " + outTypes.get(i));
      }
    }
    for (int i = 0; i < outTypes.size(); i++) {
      Tensor t = outputs.get(i);
      System.arraycopy(HostBuffers.array(t), 0, frame[outSlots[i]], 0, t.size());
    }
  }
}
