package dev.kiln.runtime;

import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.concurrent.atomic.AtomicInteger;

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
  /** Open {@link Result}s that hold this variable's storage (lent by runNoCopy); no write while any. */
  final AtomicInteger loans = new AtomicInteger();

  VariableState(Operation op) {
    this.op = op;
    this.type = op.outputType(0);
    this.size = type.shape().elementCount();
    this.storage = HostBuffers.allocate(type.dtype(), size);
  }

  /** Fails, before anything is written, if an open Result still holds this variable's storage. */
  void requireNotLent(String what) {
    int n = loans.get();
    if (n > 0) {
      throw new IllegalStateException(what + " would overwrite variable '" + op.name() + "', whose value "
          + (n == 1 ? "an open Result holds" : n + " open Results hold")
          + " (fetched by runNoCopy()): close " + (n == 1 ? "it" : "them") + " first");
    }
  }

  IllegalStateException uninitialized() {
    return new IllegalStateException("Variable '" + op.name() + "' is uninitialized: run its initializer first");
  }
}
