package dev.kiln.runtime;

import dev.kiln.runtime.exec.ConcreteTypes;
import dev.kiln.runtime.exec.PlanCompiler;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;

import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import dev.kiln.optimizer.ConstantEvaluator;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluates one node on constant inputs with the CPU kernels, for constant folding: the node's
 * kernel runs once on a frame of the input arrays and fresh output arrays; a VIEW op's output is its
 * input's data under the output type. Kernel errors propagate (the folder then leaves the node).
 */
public final class CpuConstantEvaluator implements ConstantEvaluator {
  private static final CpuConstantEvaluator INSTANCE = new CpuConstantEvaluator();

  private CpuConstantEvaluator() {}

  public static CpuConstantEvaluator instance() {
    return INSTANCE;
  }

  @Override
  public List<Tensor> evaluate(Operation op, List<Tensor> inputs) {
    if (op.isStateful()) {
      throw new IllegalArgumentException(op + ": a stateful op is not a constant");
    }
    List<TensorType> inTypes = inputs.stream().map(Tensor::type).toList();
    List<TensorType> outTypes = ConcreteTypes.infer(op, inTypes);
    if (PlanCompiler.RULES.isView(op)) {
      Object data = HostBuffers.array(inputs.get(0));
      return List.of(HostBuffers.adopt(outTypes.get(0).dtype(), outTypes.get(0).shape(), data));
    }
    int n = inputs.size();
    Object[] frame = new Object[n + outTypes.size()];
    int[] inSlots = new int[n];
    for (int i = 0; i < n; i++) {
      frame[i] = HostBuffers.array(inputs.get(i));
      inSlots[i] = i;
    }
    int[] outSlots = new int[outTypes.size()];
    for (int j = 0; j < outSlots.length; j++) {
      TensorType t = outTypes.get(j);
      outSlots[j] = n + j;
      frame[n + j] = HostBuffers.allocate(t.dtype(), t.shape().elementCount());
    }
    Kernels.create(new KernelSpec(op, inTypes, outTypes, inSlots, outSlots)).run(frame);
    List<Tensor> out = new ArrayList<>(outSlots.length);
    for (int j = 0; j < outSlots.length; j++) {
      out.add(HostBuffers.adopt(outTypes.get(j).dtype(), outTypes.get(j).shape(), frame[n + j]));
    }
    return out;
  }
}
