package dev.kiln.graph;

import java.util.List;
import java.util.Optional;

/**
 * An op type defined together with its gradient in one place (the array and normalization ops), so
 * that its definition, inference and gradient sit side by side rather than in the built-in tables.
 */
record DefinedOp(String type, int minInputs, int maxInputs, AttrSchema attrSchema, OpSpec.Inference inference,
    Optional<GradientFunction> gradient) implements OpDef {

  @Override
  public List<TensorType> infer(OpContext ctx) {
    return inference.infer(ctx);
  }
}
