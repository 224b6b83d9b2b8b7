package dev.kiln.onnx;

/**
 * How {@link OnnxModel#load(java.nio.file.Path, ImportOptions)} imports a model.
 *
 * @param weightsAsVariables floating-point initializers become variables (initialized by
 *     {@link OnnxModel#initializer()}) so that the model can be trained; otherwise constants, which the
 *     optimizer can fold
 */
public record ImportOptions(boolean weightsAsVariables) {
  public static ImportOptions defaults() {
    return new ImportOptions(false);
  }

  public static ImportOptions trainable() {
    return new ImportOptions(true);
  }
}
