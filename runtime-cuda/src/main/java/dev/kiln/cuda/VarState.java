package dev.kiln.cuda;

import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.TensorType;
import jcuda.driver.CUdeviceptr;

/**
 * A variable of a {@link CudaSession}: a host array always, a device buffer once some plan places
 * the variable on the device (allocated once, kept for the Session's life). The value lives on one
 * side at a time ({@link #onDevice}); a plan that places it on the other side moves it first.
 */
final class VarState {
  final String name;
  final TensorType type;
  final long count;
  final Object host;
  CUdeviceptr device;
  boolean onDevice;
  boolean initialized;

  VarState(String name, TensorType type) {
    this.name = name;
    this.type = type;
    this.count = type.shape().numElements();
    this.host = HostBuffers.allocate(type.dtype(), (int) count);
  }

  long bytes() {
    return count * CudaTypes.size(type.dtype());
  }

  IllegalStateException uninitialized() {
    return new IllegalStateException("Variable '" + name + "' is uninitialized: run its initializer first");
  }
}
