package dev.kiln.graph;

import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;

/** A built-in op type defined by a table entry: arity, traits, attributes and an inference function. */
record OpSpec(String type, int minInputs, int maxInputs, Set<OpTrait> traits, AttrSchema attrSchema,
    Inference inference, IntPredicate reads) implements OpDef {

  @FunctionalInterface
  interface Inference {
    List<TensorType> infer(OpContext c);
  }

  /** An op type that takes no attributes. */
  OpSpec(String type, int minInputs, int maxInputs, Set<OpTrait> traits, Inference inference) {
    this(type, minInputs, maxInputs, traits, AttrSchema.none(), inference, i -> true);
  }

  /** An op type that takes no attributes and reads only the inputs {@code reads} accepts. */
  OpSpec(String type, int minInputs, int maxInputs, Set<OpTrait> traits, Inference inference, IntPredicate reads) {
    this(type, minInputs, maxInputs, traits, AttrSchema.none(), inference, reads);
  }

  OpSpec(String type, int minInputs, int maxInputs, Set<OpTrait> traits, AttrSchema attrs, Inference inference) {
    this(type, minInputs, maxInputs, traits, attrs, inference, i -> true);
  }

  @Override
  public List<TensorType> infer(OpContext ctx) {
    return inference.infer(ctx);
  }

  @Override
  public boolean readsInput(int i) {
    return reads.test(i);
  }
}
