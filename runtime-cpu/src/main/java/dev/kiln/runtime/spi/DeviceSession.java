package dev.kiln.runtime.spi;

import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.Variable;
import java.util.List;
import java.util.Map;

/**
 * A {@code Session}'s runs executed on a device ({@link Device#openSession}): it owns the Session's
 * variables (resident on the device across runs) and compiles one plan per run signature. The
 * Session checks nulls and ownership of variables before delegating; the device session checks
 * everything else a CPU run checks (fed types, unfed placeholders, uninitialized variables) before
 * anything runs, with the CPU Session's messages, and keeps its semantics (reads before assigns).
 */
public interface DeviceSession extends AutoCloseable {
  /** One run: feeds (parallel arrays), fetched values in order, targets run for their effects. */
  List<Tensor> run(Output[] fed, Tensor[] values, Output[] fetches, Operation[] targets);

  /** A copy of a variable's current value; fails if it was never initialized. */
  Tensor variableValue(Variable v);

  /**
   * Copies of the values of {@code vars} (checked to belong to the graph), in their order, read
   * together between runs: no run's assigns are half seen. Fails, copying nothing, if one was never
   * initialized.
   */
  Map<Variable, Tensor> variableValues(List<Variable> vars);

  /** Sets variables (already checked against their types) between runs. */
  void assignVariables(Map<Variable, Tensor> values);

  /** Frees the device memory this Session holds (not the device). */
  @Override
  void close();
}
