package dev.kiln.onnx;

import dev.kiln.graph.Tensor;
import java.util.Map;
import java.util.Objects;

/**
 * How {@link OnnxModel#load(java.nio.file.Path, ImportOptions)} imports a model.
 *
 * @param weightsAsVariables floating-point initializers become variables (initialized by
 *     {@link OnnxModel#initializer()}) so that the model can be trained; otherwise constants, which the
 *     optimizer can fold
 * @param frozenInputs graph inputs bound to fixed values at import: they become constants (and leave
 *     {@link OnnxModel#inputs()}), so that inputs Kiln needs as attributes, such as a Reshape's shape fed
 *     as a graph input, can be resolved
 */
public record ImportOptions(boolean weightsAsVariables, Map<String, Tensor> frozenInputs) {
  public ImportOptions {
    frozenInputs = Map.copyOf(Objects.requireNonNull(frozenInputs, "frozenInputs is null"));
  }

  public static ImportOptions defaults() {
    return new ImportOptions(false, Map.of());
  }

  public static ImportOptions trainable() {
    return new ImportOptions(true, Map.of());
  }

  public ImportOptions withFrozenInputs(Map<String, Tensor> inputs) {
    return new ImportOptions(weightsAsVariables, inputs);
  }
}
