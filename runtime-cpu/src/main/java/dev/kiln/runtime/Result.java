package dev.kiln.runtime;

import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
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
  private final List<Output> fetches;
  private final List<Tensor> values;
  private final List<VariableState> held;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Result(List<Output> fetches, Tensor[] values, List<VariableState> held) {
    this.fetches = fetches;
    this.values = Collections.unmodifiableList(Arrays.asList(values));
    this.held = held;
  }

  /** A Result of values the caller owns (a device Session's, which copies them back to the host). */
  static Result owned(List<Output> fetches, List<Tensor> values) {
    return new Result(fetches, values.toArray(Tensor[]::new), List.of());
  }

  /**
   * A Result of {@code values}, in which {@code lent[k]}'s storage (where non-null) stands for value
   * k; those variables count this Result as a loan until it is closed. Called under the Session's lock.
   */
  static Result lending(List<Output> fetches, Tensor[] values, VariableState[] lent, TensorType[] types) {
    List<VariableState> held = new ArrayList<>();
    Result r = new Result(fetches, values, held);
    HostBuffers.Loan loan = r::requireOpen;
    for (int k = 0; k < values.length; k++) {
      if (lent[k] != null) {
        values[k] = HostBuffers.lend(types[k].dtype(), types[k].shape(), lent[k].storage, loan);
        lent[k].loans.incrementAndGet();
        held.add(lent[k]);
      }
    }
    return r;
  }

  /** Value {@code k}, in the order the fetches were added. */
  public Tensor get(int k) {
    Objects.checkIndex(k, values.size());
    return values.get(k);
  }

  /** The value of the first fetch of {@code output}. */
  public Tensor get(Output output) {
    int k = fetches.indexOf(Objects.requireNonNull(output, "output is null"));
    if (k < 0) {
      throw new IllegalArgumentException("'" + output.name() + "' was not fetched in this run; fetched: "
          + fetches.stream().map(Output::name).toList());
    }
    return values.get(k);
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
