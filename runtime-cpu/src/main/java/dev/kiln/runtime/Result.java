package dev.kiln.runtime;

import dev.kiln.runtime.exec.Plan;

import dev.kiln.graph.HostBuffers;
import dev.kiln.runtime.plan.VariableState;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fetched values of one {@link Session.Runner#runNoCopy()}: a fetched variable (a variable read
 * or an Assign's new value, as of the end of the run) is the Session's own storage, lent without a
 * copy until this Result is closed. Close it before the next run that writes one of those variables
 * (that run fails, writing nothing, while it is open); after closing, reading a lent tensor fails.
 * Other fetched values are copies the caller owns, as with {@link Session.Runner#run()}.
 *
 * <pre>{@code
 * try (Result r = session.runner().feed(x, xv).fetch(loss).fetch(newW1).runNoCopy()) {
 *   float l = r.get(0).floatValue();   // r.get(newW1) is w1's storage: no 400 KB copy per step
 * }
 * }</pre>
 */
public final class Result implements AutoCloseable {
  private final Output[] fetches;
  private List<Tensor> values = List.of();
  private final List<VariableState> held = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final HostBuffers.Loan loan = this::requireOpen;

  Result(Output[] fetches) {
    this.fetches = fetches;
  }

  /**
   * Called by the run, under the Session's lock: where {@code lent[k]} is not null, that variable's
   * storage stands for value k, and the variable counts this Result as a loan until it is closed.
   */
  void borrow(Tensor[] out, Plan.Lent[] lent) {
    for (int k = 0; k < out.length; k++) {
      if (lent[k] != null) {
        VariableState v = lent[k].variable();
        out[k] = HostBuffers.lend(lent[k].type().dtype(), lent[k].type().shape(), v.storage, loan);
        v.loans.incrementAndGet();
        held.add(v);
      }
    }
  }

  /** This Result, holding the run's values. */
  Result holding(Tensor[] out) {
    values = Collections.unmodifiableList(Arrays.asList(out));
    return this;
  }

  /** Value {@code k}, in the order the fetches were added. */
  public Tensor get(int k) {
    if (k < 0 || k >= values.size()) {
      throw new IndexOutOfBoundsException("Result.get: index " + k + " is out of range for " + values.size()
          + (values.size() == 1 ? " fetched value" : " fetched values"));
    }
    return values.get(k);
  }

  /** The value of the first fetch of {@code output}. */
  public Tensor get(Output output) {
    Objects.requireNonNull(output, "Result.get: output is null");
    for (int k = 0; k < fetches.length; k++) {
      if (fetches[k].equals(output)) {
        return values.get(k);
      }
    }
    throw new IllegalArgumentException("'" + output.name() + "' was not fetched in this run; fetched: "
        + Arrays.stream(fetches).map(Output::name).toList());
  }

  public int size() {
    return values.size();
  }

  /** The values in fetch order (lent ones valid until {@link #close}). */
  public List<Tensor> values() {
    return values;
  }

  /** Whether {@link #close} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Ends the loans: the Session may overwrite the lent variables again. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      for (VariableState v : held) {
        v.loans.decrementAndGet();
      }
    }
  }

  private void requireOpen() {
    if (closed.get()) {
      throw new IllegalStateException("this tensor was lent by runNoCopy() and its Result is closed; "
          + "the Session may have overwritten it since (copy what you keep before closing the Result)");
    }
  }
}
