package dev.kiln.graph;

import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;

/** A built-in op type defined by a table entry: arity, traits and an inference function. */
record OpSpec(String type, int minInputs, int maxInputs, Set<OpTrait> traits, Inference inference,
    IntPredicate reads) implements OpDef {

  @FunctionalInterface
  interface Inference {
    List<TensorType> infer(OpContext c);
  }

  OpSpec(String type, int minInputs, int maxInputs, Set<OpTrait> traits, Inference inference) {
    this(type, minInputs, maxInputs, traits, inference, i -> true);
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
