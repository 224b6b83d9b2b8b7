package dev.kiln.runtime;

import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;

/**
 * A variable's value inside a Session: one storage array for the Session's lifetime, updated in
 * place by assigns and aliased by reads. Guarded by the Session's lock (written only under its
 * write lock).
 */
final class VariableState {
  final Operation op;
  final TensorType type;
  final int size;
  final Object storage;
  boolean initialized;

  VariableState(Operation op) {
    this.op = op;
    this.type = op.outputType(0);
    this.size = (int) type.shape().numElements();
    this.storage = HostBuffers.allocate(type.dtype(), size);
  }

  IllegalStateException uninitialized() {
    return new IllegalStateException("Variable '" + op.name() + "' is uninitialized: run its initializer first");
  }
}
