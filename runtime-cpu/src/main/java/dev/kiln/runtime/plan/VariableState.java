package dev.kiln.runtime.plan;

import dev.kiln.runtime.Result;

import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.TensorType;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A variable's value inside a Session: one host storage array for the Session's lifetime, updated in
 * place by assigns and aliased by reads, and whether it was initialized. Guarded by the Session's
 * lock. A device that also keeps the value in its own memory extends it with that copy.
 */
public class VariableState {
  public final Operation op;
  public final TensorType type;
  /** Elements of the value. */
  public final int size;
  /** The host array (float[], double[], ...) of {@link #size} elements. */
  public final Object storage;
  private boolean initialized;
  /** Open Results that hold this variable's storage (lent by the CPU Session's runNoCopy); no write while any. */
  public final AtomicInteger loans = new AtomicInteger();

  /** The state of {@code op}'s variable (a Variable node), not initialized. */
  public VariableState(Operation op) {
    this.op = op;
    this.type = op.outputType(0);
    this.size = type.shape().elementCount();
    this.storage = HostBuffers.allocate(type.dtype(), size);
  }

  public final boolean isInitialized() {
    return initialized;
  }

  public final void setInitialized(boolean initialized) {
    this.initialized = initialized;
  }

  /** Fails, before anything is written, if an open Result still holds this variable's storage. */
  public final void requireNotLent(String what) {
    int n = loans.get();
    if (n > 0) {
      throw new IllegalStateException(what + " would overwrite variable '" + op.name() + "', whose value "
          + (n == 1 ? "an open Result holds" : n + " open Results hold")
          + " (fetched by runNoCopy()): close " + (n == 1 ? "it" : "them") + " first");
    }
  }

  /** The error of a run or read that needs this variable's value before it has one. */
  public final IllegalStateException uninitialized() {
    return new IllegalStateException("Variable '" + op.name() + "' is uninitialized: run its initializer first");
  }
}
