package dev.kiln.cuda;

import dev.kiln.graph.Operation;
import dev.kiln.runtime.plan.VariableState;
import jcuda.driver.CUdeviceptr;

/**
 * A variable of a {@link CudaSession}: the shared host state, plus a device buffer once some plan
 * places the variable on the device (allocated once, kept for the Session's life). The value lives on
 * one side at a time ({@link #onDevice}); a plan that places it on the other side moves it first.
 */
final class CudaVariable extends VariableState {
  CUdeviceptr device;
  boolean onDevice;

  CudaVariable(Operation var) {
    super(var);
  }

  String name() {
    return op.name();
  }

  long bytes() {
    return (long) size * CudaTypes.size(type.dtype());
  }
}
